#include "balancer/desync.h"

#include "http1/parser.h"

#include <cstdio>

namespace tide::balancer {

using http1::HeaderField;
using http1::HeaderKind;

DesyncAction desyncAction(DesyncMitigationMode mode, const DesyncVerdict& v) {
  if (v.unframeable || v.malformed) {
    return DesyncAction::Block; // in every mode: tide cannot forward it one way only, or
                                // RFC 9112 says to reject it
  }
  // RFC 9112 §6.1: Transfer-Encoding beside Content-Length closes the connection after it.
  DesyncAction forward = v.mustClose ? DesyncAction::ForwardThenClose : DesyncAction::Forward;
  switch (v.tier) {
  case DesyncTier::Compliant:
    return forward;
  case DesyncTier::Acceptable:
    return mode == DesyncMitigationMode::Strictest ? DesyncAction::Block : forward;
  case DesyncTier::Ambiguous:
    if (mode == DesyncMitigationMode::Monitor) {
      return forward;
    }
    if (mode == DesyncMitigationMode::Defensive && !v.notNormalized) {
      return DesyncAction::ForwardThenClose;
    }
    return DesyncAction::Block;
  case DesyncTier::Severe:
    return mode == DesyncMitigationMode::Monitor ? forward : DesyncAction::Block;
  }
  return DesyncAction::Block;
}

std::string_view desyncTierName(DesyncTier t) {
  switch (t) {
  case DesyncTier::Compliant:
    return "Compliant";
  case DesyncTier::Acceptable:
    return "Acceptable";
  case DesyncTier::Ambiguous:
    return "Ambiguous";
  case DesyncTier::Severe:
    return "Severe";
  }
  return "?";
}

std::string_view desyncReasonName(DesyncReason r) {
  switch (r) {
#define TIDE_REASON(name)                                                                          \
  case DesyncReason::name:                                                                         \
    return #name;
    TIDE_REASON(Compliant)
    TIDE_REASON(EmptyHeader)
    TIDE_REASON(SuspiciousHeader)
    TIDE_REASON(NonCompliantHeader)
    TIDE_REASON(BadHeader)
    TIDE_REASON(MultilineHeader)
    TIDE_REASON(MissingHeaderColon)
    TIDE_REASON(BadMethod)
    TIDE_REASON(AmbiguousUri)
    TIDE_REASON(SpaceInUri)
    TIDE_REASON(BadUri)
    TIDE_REASON(NonCompliantVersion)
    TIDE_REASON(BadVersion)
    TIDE_REASON(UndefinedContentLengthSemantics)
    TIDE_REASON(GetHeadZeroContentLength)
    TIDE_REASON(MultipleContentLength)
    TIDE_REASON(DuplicateContentLength)
    TIDE_REASON(BadContentLength)
    TIDE_REASON(UndefinedTransferEncodingSemantics)
    TIDE_REASON(MultipleTransferEncodingChunked)
    TIDE_REASON(BadTransferEncoding)
    TIDE_REASON(BothTeClPresent)
#undef TIDE_REASON
  }
  return "?";
}

namespace {

void appendEscaped(std::string& out, unsigned char c) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "\\0x%02x", c);
  out += hex;
}

// Escapes CR, LF, HTAB, backslash and what is not printable ASCII.
bool appendSpecial(std::string& out, unsigned char c) {
  switch (c) {
  case '\r':
    out += "\\r";
    return true;
  case '\n':
    out += "\\n";
    return true;
  case '\t':
    out += "\\t";
    return true;
  case '\\':
    out += "\\\\";
    return true;
  default:
    return false;
  }
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (appendSpecial(out, c)) {
      continue;
    }
    if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      appendEscaped(out, c);
    }
  }
  return out + "\"";
}

// Shows only what is wrong in a value: runs of ordinary characters become one '_'.
std::string obfuscated(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (appendSpecial(out, c)) {
      continue;
    }
    if (c == ' ') {
      out += ' ';
    } else if (c < 0x20 || c == 0x7f) {
      appendEscaped(out, c);
    } else if (out.back() != '_') {
      out += '_';
    }
  }
  return out + "\"";
}

std::string field(const HeaderField& f) {
  bool framing = f.kind == HeaderKind::ContentLength || f.kind == HeaderKind::TransferEncoding ||
                 f.lookalike != HeaderKind::Other;
  return quoted(f.name) + ": " + (framing ? quoted(f.value) : obfuscated(f.value));
}

} // namespace

std::string describeDesync(const MessageHead& head) {
  const DesyncVerdict& v = head.desync;
  std::string out = quoted(head.method) + ", " + std::string(desyncTierName(v.tier)) + ": " +
                    std::string(desyncReasonName(v.reason));
  if (v.tier == DesyncTier::Compliant) {
    return out;
  }
  const HeaderField* f =
      v.field >= 0 && size_t(v.field) < head.fieldCount ? &head.fields[v.field] : nullptr;
  if (f == nullptr &&
      (v.reason == DesyncReason::SuspiciousHeader || v.reason == DesyncReason::BadContentLength)) {
    return out; // (those always name a field)
  }
  std::string version = head.version.empty() ? "HTTP/0.9" : std::string(head.version);
  out += ' ';
  switch (v.reason) {
  case DesyncReason::SuspiciousHeader:
    out += field(*f) + " too close to " +
           (f->lookalike == HeaderKind::TransferEncoding ? "\"transfer-encoding\""
                                                         : "\"content-length\"");
    break;
  case DesyncReason::BadContentLength:
    out += field(*f) + " is not a 64-bit decimal number";
    break;
  case DesyncReason::UndefinedTransferEncodingSemantics:
    out += f ? quoted(head.method) + " has Transfer-Encoding"
             : "Transfer-Encoding is undefined in " + quoted(version);
    break;
  case DesyncReason::UndefinedContentLengthSemantics:
    out += f ? quoted(head.method) + " has Content-Length: " + std::to_string(v.number)
             : "Content-Length is undefined in " + quoted(version);
    break;
  case DesyncReason::GetHeadZeroContentLength:
    out += quoted(head.method) + " has Content-Length:0";
    break;
  case DesyncReason::BadMethod:
    out += quoted(head.method);
    break;
  case DesyncReason::NonCompliantVersion:
  case DesyncReason::BadVersion:
    out += "version " + quoted(version) + " in \"" + std::string(head.method) + " " +
           obfuscated(head.target) + " " + quoted(head.version) + "\"";
    break;
  case DesyncReason::AmbiguousUri:
  case DesyncReason::SpaceInUri:
  case DesyncReason::BadUri:
    out += "URI " + obfuscated(head.target);
    break;
  default:
    if (f) {
      out += field(*f);
    }
    break;
  }
  return out;
}

} // namespace tide::balancer
