#include "riposte/core/config.h"

namespace riposte {

// The built-in configuration used when no file is given: the embedded store and the
// default SSH brute-force detector. examples/riposte.yaml documents every key.
const char* defaultConfigYaml() {
  return R"yaml(
store:
  type: sqlite
  path: var/riposte.db
detectors:
  - name: ssh-bruteforce
    type: threshold
    kinds: [auth]
    outcome: failure
    key: source.ip
    threshold: 6
    window: 60s
    severity: 6
    action: block
    labels: [T1110]
response:
  default_duration: 4h
)yaml";
}

}  // namespace riposte
