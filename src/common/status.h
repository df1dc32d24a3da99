// Errors as values: Status (code + message) and Result<T>, shaped like std::expected.
//
// A Status code is the AWS error code the failure maps to at the API (for example
// "InvalidAMIID.NotFound" or "ValidationError"); the api module maps codes to HTTP statuses in
// one table. Internal failures use "InternalError".
#pragma once

#include <cassert>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tide {

class Status {
public:
  Status() = default; // OK
  Status(std::string code, std::string message)
      : code_(std::move(code)), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  bool isOk() const { return code_.empty(); }
  explicit operator bool() const { return isOk(); }

  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }
  // "Code: message", for logs and the CLI.
  std::string toString() const { return isOk() ? "OK" : code_ + ": " + message_; }

private:
  std::string code_;    // empty when OK
  std::string message_; // what a person needs to fix it
};

// Common codes shared by several modules.
inline Status validationError(std::string message) {
  return Status("ValidationError", std::move(message));
}
inline Status internalError(std::string message) {
  return Status("InternalError", std::move(message));
}

// Result<T>: either a value or a non-OK Status.
template <typename T> class Result {
public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).isOk()); }

  bool isOk() const { return v_.index() == 0; }
  explicit operator bool() const { return isOk(); }

  T& value() & {
    assert(isOk());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(isOk());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(isOk());
    return std::get<T>(std::move(v_));
  }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Status& status() const {
    static const Status kOk;
    return isOk() ? kOk : std::get<Status>(v_);
  }

private:
  std::variant<T, Status> v_;
};

// The first non-OK of several statuses (OK when all are), for checking a batch of parsed
// parameters at once: TIDE_RETURN_IF_ERROR(firstError({&a.status(), &b.status()})).
inline Status firstError(std::initializer_list<const Status*> statuses) {
  for (const Status* s : statuses) {
    if (!s->isOk()) {
      return *s;
    }
  }
  return Status::ok();
}

} // namespace tide

// Returns early with the Status of an expression that yields a Status.
#define TIDE_RETURN_IF_ERROR(expr)                                                                 \
  do {                                                                                             \
    ::tide::Status tide_status_ = (expr);                                                          \
    if (!tide_status_.isOk()) {                                                                    \
      return tide_status_;                                                                         \
    }                                                                                              \
  } while (0)
