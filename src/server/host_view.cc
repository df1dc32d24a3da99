#include "server/host_view.h"

#include "runtime/address_probe.h"
#include "runtime/peer_uid.h"

#include <fstream>
#include <thread>
#include <unistd.h>

namespace tide::server {

Result<std::string> LocalHostView::consoleOutput(const std::string& instanceId, size_t maxBytes) {
  std::ifstream in(provider_.consoleLogPath(instanceId), std::ios::binary | std::ios::ate);
  if (!in) {
    return std::string(); // nothing written yet, or the instance is gone
  }
  std::streamoff size = in.tellg();
  std::streamoff from = size > static_cast<std::streamoff>(maxBytes)
                            ? size - static_cast<std::streamoff>(maxBytes)
                            : 0;
  in.seekg(from);
  std::string out(static_cast<size_t>(size - from), '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

api::Json LocalHostView::describe() {
  runtime::ProviderInfo info = provider_.info();
  api::Json j = {
      {"DataDirectory", dataDir_},        {"Cgroups", info.cgroups},
      {"CgroupNote", info.cgroupNote},    {"DiskCopy", info.diskCopy},
      {"DiskNote", info.diskNote},        {"HostCpuCores", std::thread::hardware_concurrency()},
      {"Isolation", info.isolation},      {"IsolationNote", info.isolationNote},
      {"RunningAsRoot", ::geteuid() == 0}};
  j["Limits"] = info.limits; // what is enforced per instance (docs/reliability.md "Limits")
  j["SecurityGroups"] = securityGroups_ ? securityGroups_() : "not enforced (not set up)";
  return j;
}

Status LocalHostView::canListen(const std::string& ip, int port) {
  return runtime::canListen(ip, port);
}

std::optional<uint32_t> LocalHostView::callerUid(const std::string& peer) {
  return runtime::loopbackPeerUid(peer);
}

} // namespace tide::server
