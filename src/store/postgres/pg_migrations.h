// PostgreSQL schema migrations, kept apart from SQLite's list (the SQL dialects differ).
//
// Index i brings the schema from version i to i+1. Never edit a released entry; append.
#pragma once

#include <string>
#include <vector>

namespace riposte::pg {

const std::vector<std::string>& migrations();

}  // namespace riposte::pg
