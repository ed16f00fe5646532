# Every dependency comes from a Debian bookworm package installed by scripts/setup.
# Nothing is downloaded at build time.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
# Hyperscan: the rule engine's string and regex predicates of all rules, one database per field.
pkg_check_modules(HS REQUIRED IMPORTED_TARGET libhs)
# simdjson parses EVE, feeds and other JSON input on the hot path.
find_package(simdjson REQUIRED)
pkg_check_modules(NFT REQUIRED IMPORTED_TARGET libnftables)
find_package(CURL REQUIRED)
# libpqxx (Debian bookworm ships 6.4) over libpq: the PostgreSQL store.
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
# hiredis: the Redis client (shared intel cache, cluster decision fan-out).
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
# The management API: HTTP/1.1 on Boost.Beast/Asio (header-only, plus boost_system), password
# hashing (argon2id) and random secrets from libsodium.
find_package(Boost 1.74 REQUIRED COMPONENTS system)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)

set(RIPOSTE_DEPS
    yaml-cpp
    nlohmann_json::nlohmann_json
    spdlog::spdlog
    fmt::fmt
    SQLite::SQLite3
    OpenSSL::Crypto
    ZLIB::ZLIB
    PkgConfig::PCRE2
    PkgConfig::HS
    simdjson::simdjson
    PkgConfig::NFT
    CURL::libcurl
    PkgConfig::HIREDIS
    OpenSSL::SSL
    PkgConfig::PQXX
    PkgConfig::LIBPQ
    Boost::system
    PkgConfig::SODIUM
    Threads::Threads)

