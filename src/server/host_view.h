// The API's view of the machine, backed by the local provider and the instance controller's
// readings.
#pragma once

#include "api/action.h"
#include "control/instance_controller.h"
#include "runtime/instance_provider.h"

#include <functional>

namespace tide::server {

class LocalHostView final : public api::HostView {
public:
  LocalHostView(runtime::InstanceProvider& provider, const control::InstanceController& instances,
                std::string dataDir)
      : provider_(provider), instances_(instances), dataDir_(std::move(dataDir)) {}

  Result<std::string> consoleOutput(const std::string& instanceId, size_t maxBytes) override;
  std::string instanceDirectory(const std::string& instanceId) override {
    return provider_.diskPath(instanceId);
  }
  api::Json describe() override;
  std::optional<model::InstanceUsage> instanceUsage(const std::string& instanceId) override {
    return instances_.usage(instanceId);
  }
  Status canListen(const std::string& ip, int port) override;
  // What describe() says of security groups ("enforced (nftables)" or "not enforced (why)").
  void setSecurityGroupEnforcement(std::function<std::string()> f) {
    securityGroups_ = std::move(f);
  }
  std::optional<uint32_t> callerUid(const std::string& peer) override;

private:
  runtime::InstanceProvider& provider_;
  const control::InstanceController& instances_;
  std::string dataDir_;
  std::function<std::string()> securityGroups_;
};

} // namespace tide::server
