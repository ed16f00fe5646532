// RedisReply: one reply from a Redis server as an owned value (hiredis' reply tree copied out),
// so callers never handle hiredis memory.
//
// Thread safety: value type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace riposte::net {

struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  int64_t integer = 0;
  std::vector<RedisReply> elements;  // kArray

  bool isNil() const { return type == Type::kNil; }
  bool isError() const { return type == Type::kError; }
  bool isArray() const { return type == Type::kArray; }
  bool isString() const { return type == Type::kString || type == Type::kStatus; }
};

}  // namespace riposte::net
