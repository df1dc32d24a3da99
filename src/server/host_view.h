// The API's view of the machine, backed by the local provider.
#pragma once

#include "api/action.h"
#include "runtime/instance_provider.h"

namespace tide::server {

class LocalHostView final : public api::HostView {
public:
  LocalHostView(runtime::InstanceProvider& provider, std::string dataDir)
      : provider_(provider), dataDir_(std::move(dataDir)) {}

  Result<std::string> consoleOutput(const std::string& instanceId, size_t maxBytes) override;
  std::string instanceDirectory(const std::string& instanceId) override {
    return provider_.diskPath(instanceId);
  }
  api::Json describe() override;

private:
  runtime::InstanceProvider& provider_;
  std::string dataDir_;
};

} // namespace tide::server
