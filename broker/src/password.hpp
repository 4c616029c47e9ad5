#pragma once
// Password hashes in RabbitMQ's format, so definitions exported from
// RabbitMQ import unchanged: base64(salt ++ H(salt ++ password)) with a
// 4-byte random salt, H named by the hashing algorithm.

#include <string>
#include <string_view>

namespace warren::broker {

inline constexpr std::string_view kDefaultHashingAlgorithm = "rabbit_password_hashing_sha256";

// True for the algorithms verify_password() understands: rabbit_password_hashing_sha256,
// rabbit_password_hashing_sha512 and rabbit_password_hashing_md5.
bool known_hashing_algorithm(std::string_view algorithm);

// A new salted hash of `password` (sha256 unless another known algorithm is named).
std::string hash_password(std::string_view password,
                          std::string_view algorithm = kDefaultHashingAlgorithm);

// Whether `password` matches `hash`. An empty or malformed hash matches nothing
// (a user without a password cannot log in with one, as in RabbitMQ).
bool verify_password(std::string_view password, std::string_view hash, std::string_view algorithm);

// Standard base64 (with padding). decode returns false on malformed input.
std::string base64_encode(std::string_view bytes);
bool base64_decode(std::string_view text, std::string* out);

}  // namespace warren::broker
