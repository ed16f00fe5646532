// The web console's static files: served from api.console_dir for GET paths outside /api/,
// index.html for client-side routes, nothing outside the directory, and the default directory
// (the build's console output) chosen only when it holds an index.html.
#include <filesystem>
#include <fstream>

#include "api_fixture.h"
#include "riposte/api/service.h"

namespace riposte::api {
namespace {

void writeFile(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

TEST(ConsoleStatic, ServesFilesIndexForRoutesAndNothingOutside) {
  testing::TempDir dir;
  const auto root = dir.path() / "console";
  writeFile(root / "index.html", "<!doctype html><title>Riposte console</title>");
  writeFile(root / "assets" / "app.js", "console.log('riposte');");
  writeFile(root / "assets" / "app.css", "body{}");
  writeFile(dir.path() / "secret.txt", "not for clients");
  writeFile(dir.path() / "console-private" / "key.txt", "sibling, not for clients");
  ApiServer srv("  console_dir: " + root.string() + "\n");

  auto index = srv.call("GET", "/", "");
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_NE(index.body.find("Riposte console"), std::string::npos);
  EXPECT_EQ(index.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_NE(index.headers["content-security-policy"].find("default-src 'self'"), std::string::npos);

  auto js = srv.call("GET", "/assets/app.js", "");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log('riposte');");
  EXPECT_EQ(js.headers["content-type"], "text/javascript; charset=utf-8");
  EXPECT_EQ(srv.call("GET", "/assets/app.css", "").headers["content-type"],
            "text/css; charset=utf-8");

  // A client-side route gets the app; a path escaping the directory gets the app, never the file.
  auto route = srv.call("GET", "/decisions", "");
  EXPECT_EQ(route.status, 200);
  EXPECT_NE(route.body.find("Riposte console"), std::string::npos);
  auto escape = srv.call("GET", "/%2e%2e/secret.txt", "");
  EXPECT_EQ(escape.body.find("not for clients"), std::string::npos) << escape.body;
  auto sibling = srv.call("GET", "/%2e%2e/console-private/key.txt", "");
  EXPECT_EQ(sibling.body.find("not for clients"), std::string::npos) << sibling.body;

  // The API's own namespace is never the console: unknown routes stay JSON 404s.
  auto api = srv.call("GET", "/api/v1/no-such-route", "viewer");
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(errorCode(api), "not_found");
  // Writes to console paths are not served files.
  EXPECT_NE(srv.call("POST", "/", "", "{}").status, 200);
}

TEST(ConsoleStatic, NoConsoleDirectoryMeansNoConsole) {
  ApiServer srv("  console_dir: none\n");
  auto r = srv.call("GET", "/", "");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(errorCode(r), "not_found");
}

TEST(ConsoleStatic, DefaultDirectoryIsTheBuildOutputWhenItExists) {
  testing::TempDir dir;
  const std::string built = (dir.path() / "console").string();
  // Not built yet: no console.
  EXPECT_EQ(consoleDirectory("", built), "");
  writeFile(std::filesystem::path(built) / "index.html", "<!doctype html>");
  EXPECT_EQ(consoleDirectory("", built), built);
  // Configured wins; "none" turns it off.
  EXPECT_EQ(consoleDirectory("/srv/console", built), "/srv/console");
  EXPECT_EQ(consoleDirectory("none", built), "");
  // The compiled-in default is the build tree's console/ directory.
  EXPECT_EQ(std::filesystem::path(builtConsoleDir()).filename(), "console");
}

}  // namespace
}  // namespace riposte::api
