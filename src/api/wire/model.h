// The AWS service models of the actions tide serves, as tables: shapes with their members'
// wire names, operations with their input and output shapes, result wrappers and paginators,
// services with their protocols, and modelled error codes with their HTTP statuses.
// model_tables.cc is generated from botocore's models by scripts/gen_wire_model.py; the
// decoders and encoders of wire/ walk these tables, so no action has an encoding of its own.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace tide::api::wire {

enum class Type : uint8_t {
  Structure,
  List,
  Map,
  String,
  Boolean,
  Integer,
  Long,
  Float,
  Double,
  Timestamp,
  Blob,
};

struct Member {
  std::string_view name;         // the member's name: the JSON key, and query key by default
  std::string_view locationName; // XML element / query name when it differs ("" when none)
  std::string_view queryName;    // EC2 query name when it differs ("" when none)
  uint16_t shape;                // index into shapes()
  bool required;
};

struct Shape {
  Type type;
  bool flattened;                   // list or map serialized without a wrapper element
  uint16_t a;                       // structure: first member; list: element shape; map: key shape
  uint16_t b;                       // structure: member count; map: value shape
  std::string_view elementName;     // list: the element's locationName; map: the key's
  std::string_view valueName;       // map: the value's locationName
  std::string_view timestampFormat; // timestamp: "iso8601", "unixTimestamp", or "" (protocol's)
  std::string_view name;            // the model's name of a structure, list or map (for messages)

  std::span<const Member> members() const;
};

struct Operation {
  std::string_view service;       // the action table's service: "ec2", "monitoring", ...
  std::string_view name;          // "DescribeInstances"
  int32_t input;                  // shape index, -1 when none
  int32_t output;                 // shape index, -1 when none
  std::string_view resultWrapper; // query: the element around the result
  // Paginated operations (botocore's paginators): the token and page-size members and the
  // list a page slices; all "" when not paginated.
  std::string_view inputToken;
  std::string_view outputToken;
  std::string_view limitKey;
  std::string_view resultKey;
};

struct Service {
  std::string_view name;          // the action table's service
  std::string_view protocol;      // the model's: "ec2", "query" or "json"
  std::string_view apiVersion;    // the query protocols' Version
  std::string_view xmlNamespace;  // query and EC2 responses
  std::string_view signingName;   // SigV4 credential scope
  std::string_view targetPrefix;  // AWS JSON: X-Amz-Target prefix ("" when not served over JSON)
  std::string_view jsonVersion;   // AWS JSON: "1.0" or "1.1"
  std::string_view cborServiceId; // Smithy RPC v2 CBOR: the path's service ("" when not served)
};

struct ErrorCode {
  std::string_view service;
  std::string_view code;
  int httpStatus;
  bool senderFault;
};

std::span<const Member> members();
std::span<const Shape> shapes();
std::span<const Operation> operations();
std::span<const Service> services();
std::span<const ErrorCode> errorCodes();

inline std::span<const Member> Shape::members() const {
  return type == Type::Structure ? wire::members().subspan(a, b) : std::span<const Member>{};
}
inline const Shape& shapeAt(int index) {
  return shapes()[static_cast<size_t>(index)];
}

// Lookups (nullptr when none).
const Service* findService(std::string_view name);
const Service* findServiceByVersion(std::string_view apiVersion);
const Service* findServiceBySigningName(std::string_view signingName);
const Service* findServiceByTargetPrefix(std::string_view targetPrefix);
const Service* findServiceByCborId(std::string_view cborServiceId);
const Operation* findOperation(std::string_view service, std::string_view name);
const Member* findMember(const Shape& structure, std::string_view name);
// The modelled error of this code in the service, or nullptr.
const ErrorCode* findError(std::string_view service, std::string_view code);

} // namespace tide::api::wire
