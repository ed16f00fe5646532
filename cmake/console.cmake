# The web console (console/, TypeScript): built into ${PROJECT_BINARY_DIR}/console, which
# `riposte serve` serves when api.console_dir is not set. Rebuilt when a console source changes;
# `npm ci` runs only when console/node_modules is missing or does not match package-lock.json
# (scripts/console), so an unchanged tree builds without the network.
find_program(RIPOSTE_NODE node)
find_program(RIPOSTE_NPM npm)
set(RIPOSTE_CONSOLE_DIR ${PROJECT_BINARY_DIR}/console)

if(RIPOSTE_NODE AND RIPOSTE_NPM)
  file(GLOB_RECURSE RIPOSTE_CONSOLE_SOURCES CONFIGURE_DEPENDS
       ${PROJECT_SOURCE_DIR}/console/src/*.ts ${PROJECT_SOURCE_DIR}/console/src/*.css)
  add_custom_command(
    OUTPUT ${RIPOSTE_CONSOLE_DIR}/index.html ${RIPOSTE_CONSOLE_DIR}/assets/app.js
           ${RIPOSTE_CONSOLE_DIR}/assets/app.css
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/console build ${RIPOSTE_CONSOLE_DIR}
    DEPENDS ${RIPOSTE_CONSOLE_SOURCES} ${PROJECT_SOURCE_DIR}/console/index.html
            ${PROJECT_SOURCE_DIR}/console/build.mjs ${PROJECT_SOURCE_DIR}/console/tsconfig.json
            ${PROJECT_SOURCE_DIR}/console/package.json ${PROJECT_SOURCE_DIR}/console/package-lock.json
            ${PROJECT_SOURCE_DIR}/scripts/console
    COMMENT "Building the web console (TypeScript) into ${RIPOSTE_CONSOLE_DIR}"
    VERBATIM)
  add_custom_target(console ALL DEPENDS ${RIPOSTE_CONSOLE_DIR}/index.html)
  set(RIPOSTE_HAVE_CONSOLE ON)
else()
  message(STATUS "node/npm not found: the web console is not built (scripts/setup installs them)")
  set(RIPOSTE_HAVE_CONSOLE OFF)
endif()
