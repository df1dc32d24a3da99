// One event as `tide events` prints it for people: its time, sequence number, detail-type and
// the fields that say what happened ("i-0abc… pending → running", "web i-0abc… Successful").
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace tide::cli {

// "2026-12-06T12:00:00Z  #12  EC2 Instance State-change Notification  i-0123… running".
// Unknown detail-types print their detail as JSON.
std::string eventText(uint64_t seq, const nlohmann::json& event);

} // namespace tide::cli
