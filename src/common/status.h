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

class [[nodiscard]] Status {
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
  // Drops the Status on purpose. Status is [[nodiscard]]; this marks a best-effort step (such
  // as cleanup on a path that already failed) whose failure the caller cannot act on. Say why
  // at the call.
  void ignoreError() const {}

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
template <typename T> class [[nodiscard]] Result {
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

  const Status& status() const& {
    static const Status kOk;
    return isOk() ? kOk : std::get<Status>(v_);
  }
  Status status() && { return isOk() ? Status() : std::get<Status>(std::move(v_)); }

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

// The two return-on-error macros; hand-written `if (!r) { return r.status(); }` unwraps are
// not used.
//
// TIDE_RETURN_IF_ERROR(expr): returns early with the Status of an expression that yields a
// Status (for a Result, pass its .status()).
#define TIDE_RETURN_IF_ERROR(...)                                                                  \
  do {                                                                                             \
    ::tide::Status tide_status_ = (__VA_ARGS__);                                                   \
    if (!tide_status_.isOk()) {                                                                    \
      return tide_status_;                                                                         \
    }                                                                                              \
  } while (0)

// TIDE_ASSIGN_OR_RETURN(declaration, expr): evaluates a Result; returns its Status when it is
// an error, otherwise moves its value into the declaration:
//   TIDE_ASSIGN_OR_RETURN(auto groups, tx.autoScalingGroups());
//   TIDE_ASSIGN_OR_RETURN(std::vector<TreeEntry> entries, listTree(dir));
// The declaration must not contain a comma outside parentheses (write auto then).
#define TIDE_ASSIGN_OR_RETURN(lhs, ...)                                                            \
  TIDE_ASSIGN_OR_RETURN_IMPL_(TIDE_STATUS_CONCAT_(tide_result_, __LINE__), lhs, __VA_ARGS__)
#define TIDE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, ...)                                                 \
  auto tmp = (__VA_ARGS__);                                                                        \
  if (!tmp.isOk()) {                                                                               \
    return std::move(tmp).status();                                                                \
  }                                                                                                \
  lhs = std::move(tmp).value()
#define TIDE_STATUS_CONCAT_(a, b) TIDE_STATUS_CONCAT_INNER_(a, b)
#define TIDE_STATUS_CONCAT_INNER_(a, b) a##b
