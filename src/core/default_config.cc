#include "riposte/core/config.h"

namespace riposte {

// The built-in configuration used when no file is given: the embedded store and the
// default ruleset shipped in rules/ ("@bundled"). examples/riposte.yaml documents every key.
const char* defaultConfigYaml() {
  return R"yaml(
store:
  type: sqlite
  path: var/riposte.db
detectors:
  - name: rules
    type: rules
    paths: ["@bundled"]
response:
  default_duration: 4h
)yaml";
}

}  // namespace riposte
