// `tide serve-static`: the web server of tide's built-in base image (model/public_parameters.h).
// It listens on HOST and PORT as tide gives every instance (default 0.0.0.0:80), answers GET /
// with a small HTML page naming the instance (TIDE_INSTANCE_ID, its type, image and address)
// and GET /health with 200 "ok", and stops on SIGTERM.
#pragma once

#include <string>

namespace tide::server {

// The page GET / answers, from the instance's environment; values are HTML-escaped.
std::string baseImagePage(const std::string& instanceId, const std::string& instanceType,
                          const std::string& imageId, const std::string& address);

int serveStaticMain(int argc, char** argv);

} // namespace tide::server
