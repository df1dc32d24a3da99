#include "api/key_material.h"

#include "common/text.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <functional>
#include <memory>
#include <vector>

namespace tide::api {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

Status cryptoError(const std::string& what) {
  return internalError("OpenSSL failed to " + what);
}

// OpenSSH's wire encoding (RFC 4251): uint32 lengths, big-endian.
void putUint32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out += static_cast<char>((v >> shift) & 0xff);
  }
}
void putString(std::string& out, std::string_view s) {
  putUint32(out, static_cast<uint32_t>(s.size()));
  out += s;
}
// An mpint: big-endian magnitude, with a leading zero byte when the top bit is set.
void putMpint(std::string& out, const BIGNUM* bn) {
  std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  if (!bytes.empty() && (static_cast<unsigned char>(bytes[0]) & 0x80)) {
    bytes.insert(bytes.begin(), '\0');
  }
  putString(out, bytes);
}

// A reader of the same encoding; every read fails once the input is short.
class SshReader {
public:
  explicit SshReader(std::string_view data) : data_(data) {}
  std::optional<std::string_view> string() {
    if (data_.size() < 4) {
      return std::nullopt;
    }
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) {
      n = (n << 8) | static_cast<unsigned char>(data_[i]);
    }
    if (data_.size() - 4 < n) {
      return std::nullopt;
    }
    std::string_view s = data_.substr(4, n);
    data_.remove_prefix(4 + n);
    return s;
  }
  bool done() const { return data_.empty(); }

private:
  std::string_view data_;
};

std::string digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), n);
}

std::string colonHex(std::string_view bytes) {
  std::string hex = hexEncode(bytes), out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out += out.empty() ? "" : ":";
    out += hex.substr(i, 2);
  }
  return out;
}

Result<std::string> rsaBlob(EVP_PKEY* key) {
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
      EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
    BN_free(n);
    BN_free(e);
    return cryptoError("read an RSA key");
  }
  Bn nOwned(n), eOwned(e);
  std::string blob;
  putString(blob, "ssh-rsa");
  putMpint(blob, e);
  putMpint(blob, n);
  return blob;
}

Result<std::string> ed25519Raw(EVP_PKEY* key, bool priv) {
  std::string raw(32, '\0');
  size_t len = raw.size();
  int ok =
      priv ? EVP_PKEY_get_raw_private_key(key, reinterpret_cast<unsigned char*>(raw.data()), &len)
           : EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &len);
  if (ok != 1 || len != 32) {
    return cryptoError("read an ED25519 key");
  }
  return raw;
}

std::string ed25519Blob(std::string_view pub) {
  std::string blob;
  putString(blob, "ssh-ed25519");
  putString(blob, pub);
  return blob;
}

std::string ed25519Fingerprint(std::string_view blob) {
  return base64Encode(digest(EVP_sha256(), blob));
}

std::string wrap(std::string_view b64, size_t width) {
  std::string out;
  for (size_t i = 0; i < b64.size(); i += width) {
    out += b64.substr(i, width);
    out += '\n';
  }
  return out;
}

// OpenSSH's own private key format, unencrypted ("openssh-key-v1"), for one ED25519 key.
Result<std::string> opensshPrivateKey(std::string_view pub, std::string_view seed,
                                      const std::string& comment) {
  std::string blob = ed25519Blob(pub);
  unsigned char check[4];
  if (RAND_bytes(check, sizeof check) != 1) {
    return cryptoError("make random bytes");
  }
  std::string priv;
  priv.append(reinterpret_cast<char*>(check), 4);
  priv.append(reinterpret_cast<char*>(check), 4);
  putString(priv, "ssh-ed25519");
  putString(priv, pub);
  putString(priv, std::string(seed) + std::string(pub));
  putString(priv, comment);
  for (char pad = 1; priv.size() % 8 != 0; ++pad) {
    priv += pad;
  }
  std::string out("openssh-key-v1", 15); // with its terminating NUL
  putString(out, "none");
  putString(out, "none");
  putString(out, "");
  putUint32(out, 1);
  putString(out, blob);
  putString(out, priv);
  return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + wrap(base64Encode(out), 70) +
         "-----END OPENSSH PRIVATE KEY-----\n";
}

Result<std::string> bioText(const std::function<int(BIO*)>& write) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || write(bio.get()) != 1) {
    return cryptoError("write a key");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

} // namespace

Result<KeyMaterial> generateKey(std::string_view keyType, const std::string& comment) {
  KeyMaterial m;
  m.keyType = std::string(keyType);
  if (keyType == "rsa") {
    Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
    if (!key) {
      return cryptoError("make an RSA key");
    }
    // PKCS#1 ("BEGIN RSA PRIVATE KEY"), as EC2 hands RSA keys out.
    TIDE_ASSIGN_OR_RETURN(m.privateKeyPem, bioText([&](BIO* b) {
                            return PEM_write_bio_PrivateKey_traditional(
                                b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
                          }));
    std::unique_ptr<PKCS8_PRIV_KEY_INFO, decltype(&PKCS8_PRIV_KEY_INFO_free)> p8(
        EVP_PKEY2PKCS8(key.get()), PKCS8_PRIV_KEY_INFO_free);
    unsigned char* der = nullptr;
    int len = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &der) : -1;
    if (len <= 0) {
      return cryptoError("encode an RSA key");
    }
    m.fingerprint =
        colonHex(digest(EVP_sha1(), std::string_view(reinterpret_cast<char*>(der), len)));
    OPENSSL_free(der);
    TIDE_ASSIGN_OR_RETURN(std::string blob, rsaBlob(key.get()));
    m.publicKey = "ssh-rsa " + base64Encode(blob) + " " + comment;
    return m;
  }
  if (keyType == "ed25519") {
    Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!key) {
      return cryptoError("make an ED25519 key");
    }
    TIDE_ASSIGN_OR_RETURN(std::string pub, ed25519Raw(key.get(), false));
    TIDE_ASSIGN_OR_RETURN(std::string seed, ed25519Raw(key.get(), true));
    TIDE_ASSIGN_OR_RETURN(m.privateKeyPem, opensshPrivateKey(pub, seed, comment));
    std::string blob = ed25519Blob(pub);
    m.fingerprint = ed25519Fingerprint(blob);
    m.publicKey = "ssh-ed25519 " + base64Encode(blob) + " " + comment;
    return m;
  }
  return Status("InvalidParameterValue",
                "Invalid value '" + std::string(keyType) + "' for KeyType: rsa or ed25519");
}

Result<KeyMaterial> importPublicKey(std::string_view line) {
  auto bad = [](const std::string& why) {
    return Status("InvalidKey.Format",
                  "Key is not in valid OpenSSH public key format (" + why + ")");
  };
  std::string_view text = trim(line);
  size_t space = text.find(' ');
  if (space == std::string_view::npos) {
    return bad("expecting 'TYPE BASE64 [COMMENT]'");
  }
  std::string_view type = text.substr(0, space);
  std::string_view rest = trim(text.substr(space + 1));
  std::string_view b64 = rest.substr(0, rest.find(' '));
  auto blob = base64Decode(b64);
  if (!blob) {
    return bad("the key is not base64");
  }
  SshReader r(*blob);
  auto blobType = r.string();
  if (!blobType || *blobType != type) {
    return bad("the key's type does not match '" + std::string(type) + "'");
  }
  KeyMaterial m;
  if (type == "ssh-ed25519") {
    auto pub = r.string();
    if (!pub || pub->size() != 32 || !r.done()) {
      return bad("an ED25519 key is 32 bytes");
    }
    m.keyType = "ed25519";
    m.fingerprint = ed25519Fingerprint(*blob);
  } else if (type == "ssh-rsa") {
    auto e = r.string();
    auto n = r.string();
    if (!e || !n || !r.done() || e->empty() || n->empty()) {
      return bad("an RSA key is its exponent and modulus");
    }
    Bn eBn(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()),
                     nullptr));
    Bn nBn(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()),
                     nullptr));
    if (!eBn || !nBn || BN_num_bits(nBn.get()) < 1024 || BN_num_bits(nBn.get()) > 16384 ||
        !BN_is_odd(eBn.get())) {
      return bad("RSA keys are 1024 to 16384 bits with an odd exponent");
    }
    std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                        OSSL_PARAM_BLD_free);
    if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, nBn.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, eBn.get()) != 1) {
      return cryptoError("read an RSA key");
    }
    std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(
        OSSL_PARAM_BLD_to_param(bld.get()), OSSL_PARAM_free);
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr), EVP_PKEY_CTX_free);
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
      return bad("not a usable RSA key");
    }
    Pkey key(raw);
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(key.get(), &der);
    if (len <= 0) {
      return cryptoError("encode an RSA key");
    }
    m.keyType = "rsa";
    m.fingerprint =
        colonHex(digest(EVP_md5(), std::string_view(reinterpret_cast<char*>(der), len)));
    OPENSSL_free(der);
  } else {
    return bad("tide takes ssh-rsa and ssh-ed25519 keys");
  }
  m.publicKey = std::string(text);
  return m;
}

} // namespace tide::api
