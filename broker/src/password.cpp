#include "password.hpp"

#include <openssl/evp.h>

#include <array>
#include <random>

namespace warren::broker {

namespace {

const EVP_MD* digest_for(std::string_view algorithm) {
  if (algorithm.empty() || algorithm == "rabbit_password_hashing_sha256") return EVP_sha256();
  if (algorithm == "rabbit_password_hashing_sha512") return EVP_sha512();
  if (algorithm == "rabbit_password_hashing_md5") return EVP_md5();
  return nullptr;
}

std::string salted_digest(const EVP_MD* md, std::string_view salt, std::string_view password) {
  std::string input(salt);
  input += password;
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), out.data(), &len, md, nullptr) != 1) return {};
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int decode_char(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

bool known_hashing_algorithm(std::string_view algorithm) {
  return digest_for(algorithm) != nullptr;
}

std::string hash_password(std::string_view password, std::string_view algorithm) {
  const EVP_MD* md = digest_for(algorithm);
  if (md == nullptr) md = EVP_sha256();
  static std::mt19937 rng{std::random_device{}()};
  std::string salt(4, '\0');
  for (char& c : salt)
    c = static_cast<char>(rng() & 0xff);
  return base64_encode(salt + salted_digest(md, salt, password));
}

bool verify_password(std::string_view password, std::string_view hash, std::string_view algorithm) {
  const EVP_MD* md = digest_for(algorithm);
  std::string raw;
  if (md == nullptr || hash.empty() || !base64_decode(hash, &raw) || raw.size() <= 4) return false;
  const std::string expected = salted_digest(md, raw.substr(0, 4), password);
  const std::string_view got = std::string_view(raw).substr(4);
  if (expected.size() != got.size()) return false;
  unsigned char diff = 0;  // constant time in the digest
  for (std::size_t i = 0; i < got.size(); ++i)
    diff |= static_cast<unsigned char>(expected[i] ^ got[i]);
  return diff == 0;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                       static_cast<unsigned char>(bytes[i + 1]) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += i + 1 < bytes.size() ? kAlphabet[v >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

bool base64_decode(std::string_view text, std::string* out) {
  out->clear();
  unsigned buffer = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (char c : text) {
    if (c == '=') {
      ++padding;
      continue;
    }
    if (c == '\r' || c == '\n') continue;
    if (padding > 0) return false;  // data after padding
    const int v = decode_char(c);
    if (v < 0) return false;
    buffer = buffer << 6 | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>(buffer >> bits & 0xff));
    }
  }
  return padding <= 2;
}

}  // namespace warren::broker
