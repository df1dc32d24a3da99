#include "model/public_parameters.h"

#include <algorithm>
#include <array>

namespace tide::model {

namespace {

constexpr std::string_view kImage = "aws:ec2:image";

// Sorted by name (GetParametersByPath lists them in this order). Instances are processes on
// this host, so the arm64 names launch the same image as the x86_64 ones.
constexpr std::array<PublicParameter, 12> kParameters = {{
    {"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64", kBaseImageId, kImage},
    {"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64", kBaseImageId, kImage},
    {"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64", kBaseImageId, kImage},
    {"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", kBaseImageId, kImage},
    {"/aws/service/ami-amazon-linux-latest/al2023-ami-minimal-kernel-6.1-arm64", kBaseImageId,
     kImage},
    {"/aws/service/ami-amazon-linux-latest/al2023-ami-minimal-kernel-6.1-x86_64", kBaseImageId,
     kImage},
    {"/aws/service/ami-amazon-linux-latest/al2023-ami-minimal-kernel-default-arm64", kBaseImageId,
     kImage},
    {"/aws/service/ami-amazon-linux-latest/al2023-ami-minimal-kernel-default-x86_64", kBaseImageId,
     kImage},
    {"/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-arm64-gp2", kBaseImageId, kImage},
    {"/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2", kBaseImageId, kImage},
    {"/aws/service/ami-amazon-linux-latest/amzn2-ami-kernel-5.10-hvm-arm64-gp2", kBaseImageId,
     kImage},
    {"/aws/service/ami-amazon-linux-latest/amzn2-ami-kernel-5.10-hvm-x86_64-gp2", kBaseImageId,
     kImage},
}};

} // namespace

bool isBuiltinImage(std::string_view imageId) {
  return imageId == kBaseImageId;
}

std::span<const PublicParameter> publicParameters() {
  return kParameters;
}

const PublicParameter* findPublicParameter(std::string_view name) {
  auto it =
      std::lower_bound(kParameters.begin(), kParameters.end(), name,
                       [](const PublicParameter& p, std::string_view n) { return p.name < n; });
  return it != kParameters.end() && it->name == name ? &*it : nullptr;
}

ParameterSelector parseParameterSelector(std::string_view reference) {
  constexpr std::string_view kArnPart = ":parameter/";
  std::string_view rest = reference;
  if (reference.starts_with("arn:")) {
    size_t at = reference.find(kArnPart);
    if (at != std::string_view::npos) {
      // arn:aws:ssm:REGION:ACCOUNT:parameter/aws/service/... names /aws/service/...
      rest = reference.substr(at + kArnPart.size() - 1);
    }
  }
  ParameterSelector out;
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) {
    out.name = std::string(rest);
  } else {
    out.name = std::string(rest.substr(0, colon));
    out.selector = std::string(rest.substr(colon + 1));
  }
  return out;
}

bool isSsmImageReference(std::string_view imageId) {
  return imageId.starts_with(kResolveSsmPrefix);
}

Result<std::string> resolveImageId(std::string_view imageId) {
  if (!isSsmImageReference(imageId)) {
    return std::string(imageId);
  }
  std::string_view reference = imageId.substr(kResolveSsmPrefix.size());
  ParameterSelector sel = parseParameterSelector(reference);
  const PublicParameter* p = findPublicParameter(sel.name);
  if (p == nullptr) {
    return Status("InvalidParameterValue",
                  "Invalid value '" + std::string(imageId) +
                      "' for imageId: the Systems Manager parameter '" + sel.name +
                      "' does not exist (tide provides the public parameters under "
                      "/aws/service/ami-amazon-linux-latest/; aws ssm get-parameters-by-path "
                      "--path /aws/service/ami-amazon-linux-latest lists them)");
  }
  if (!sel.selector.empty() && sel.selector != std::to_string(kPublicParameterVersion)) {
    return Status("InvalidParameterValue",
                  "Invalid value '" + std::string(imageId) + "' for imageId: the parameter '" +
                      sel.name + "' has no version or label '" + sel.selector +
                      "' (its only version is " + std::to_string(kPublicParameterVersion) + ")");
  }
  if (p->dataType != kImage) {
    return Status("SsmInvalidParameter",
                  "Unsupported data type. The following parameter data types are supported: "
                  "aws:ec2:image ('" +
                      sel.name + "' is " + std::string(p->dataType) + ")");
  }
  return std::string(p->value);
}

} // namespace tide::model
