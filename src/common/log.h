// Logging: one line per event to stderr, with level and UTC time. Thread-safe (one write(2)
// per line).
#pragma once

#include <string_view>

namespace tide {

enum class LogLevel {
  Debug, // detail for developers; off unless TIDE_LOG=debug
  Info,  // what a person running the server wants to see
  Warn,  // something is off but tide carries on
  Error, // an operation failed
};

void logLine(LogLevel level, std::string_view message);
inline void logInfo(std::string_view m) {
  logLine(LogLevel::Info, m);
}
inline void logWarn(std::string_view m) {
  logLine(LogLevel::Warn, m);
}
inline void logError(std::string_view m) {
  logLine(LogLevel::Error, m);
}
inline void logDebug(std::string_view m) {
  logLine(LogLevel::Debug, m);
}

} // namespace tide
