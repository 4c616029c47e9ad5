#!/usr/bin/env python3
"""Generates Warren's AMQP 0-9-1 method codec from the spec XML.

Usage:
  gen_amqp.py --spec SPEC.xml [--extra EXTRA.xml ...] --out-dir DIR
      writes DIR/warren/protocol/{constants.hpp,methods.hpp,methods.cpp}
  gen_amqp.py --spec SPEC.xml [--extra EXTRA.xml ...] --samples FILE
      writes a test-only header with non-default sample values for every
      method (used by the protocol unit tests' round-trip test)

Every constant and method in the XML is generated; nothing per method is
written by hand. --extra files use the spec's format; their constants and
domains are appended and their classes merged into same-named classes.
Standard library only (xml.etree).
"""

import argparse
import os
import sys
import xml.etree.ElementTree as ET

# AMQP primitive type -> (C++ type, default initialiser or None, Encoder/Decoder member)
PRIMITIVES = {
    "bit": ("bool", "false", None),
    "octet": ("std::uint8_t", "0", "u8"),
    "short": ("std::uint16_t", "0", "u16"),
    "long": ("std::uint32_t", "0", "u32"),
    "longlong": ("std::uint64_t", "0", "u64"),
    "shortstr": ("std::string", None, "shortstr"),
    "longstr": ("std::string", None, "longstr"),
    "timestamp": ("std::uint64_t", "0", "u64"),
    "table": ("FieldTable", None, "table"),
}

# frame.hpp declares these itself (with its own types); the generated header
# checks that it agrees with the spec instead of redefining them.
DEFINED_IN_FRAME_HPP = {"frame-end": "kFrameEnd", "frame-min-size": "kFrameMinSize"}

CPP_KEYWORDS = {
    "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
    "case", "catch", "char", "class", "compl", "concept", "const", "consteval", "constexpr",
    "constinit", "const_cast", "continue", "co_await", "co_return", "co_yield", "decltype",
    "default", "delete", "do", "double", "dynamic_cast", "else", "enum", "explicit", "export",
    "extern", "false", "float", "for", "friend", "goto", "if", "inline", "int", "long",
    "mutable", "namespace", "new", "noexcept", "not", "not_eq", "nullptr", "operator", "or",
    "or_eq", "private", "protected", "public", "register", "reinterpret_cast", "requires",
    "return", "short", "signed", "sizeof", "static", "static_assert", "static_cast", "struct",
    "switch", "template", "this", "thread_local", "throw", "true", "try", "typedef", "typeid",
    "typename", "union", "unsigned", "using", "virtual", "void", "volatile", "wchar_t",
    "while", "xor", "xor_eq",
}


class SpecError(Exception):
    pass


def pascal(name):
    return "".join(part[:1].upper() + part[1:] for part in name.split("-"))


def snake(name):
    ident = name.replace("-", "_")
    return ident + "_" if ident in CPP_KEYWORDS else ident


class Field:
    def __init__(self, name, amqp_type):
        self.name = name
        self.ident = snake(name)
        self.type = amqp_type
        self.cpp_type, self.default, self.codec = PRIMITIVES[amqp_type]


class Method:
    def __init__(self, class_name, class_id, elem, domains):
        self.class_name = class_name
        self.name = elem.get("name")
        self.class_id = class_id
        self.method_id = int(elem.get("index"))
        self.synchronous = elem.get("synchronous") == "1"
        self.content = elem.get("content") == "1"
        self.struct = pascal(class_name) + pascal(self.name)
        self.full_name = f"{class_name}.{self.name}"
        self.fields = []
        for f in elem.findall("field"):
            self.fields.append(Field(f.get("name"), resolve_type(f, domains, self.full_name)))

    @property
    def key(self):
        return (self.class_id << 16) | self.method_id


def resolve_type(field, domains, where):
    if field.get("type"):
        t = field.get("type")
    elif field.get("domain"):
        t = field.get("domain")
    else:
        raise SpecError(f"{where}: field {field.get('name')} has neither type nor domain")
    seen = set()
    while t not in PRIMITIVES:
        if t in seen or t not in domains:
            raise SpecError(f"{where}: cannot resolve domain {t!r}")
        seen.add(t)
        t = domains[t]
    return t


class Spec:
    def __init__(self):
        self.constants = []  # (name, value, error class or None)
        self.domains = {}
        self.classes = []  # [name, index, [method elements]]
        self.sources = []

    def load(self, path):
        root = ET.parse(path).getroot()
        self.sources.append(os.path.basename(path))
        known = {c[0] for c in self.constants}
        for c in root.findall("constant"):
            if c.get("name") in known:
                raise SpecError(f"{path}: constant {c.get('name')} defined twice")
            self.constants.append((c.get("name"), int(c.get("value")), c.get("class")))
        for d in root.findall("domain"):
            self.domains[d.get("name")] = d.get("type")
        for c in root.findall("class"):
            existing = next((k for k in self.classes if k[0] == c.get("name")), None)
            if existing is None:
                self.classes.append([c.get("name"), int(c.get("index")), list(c.findall("method"))])
            else:
                if existing[1] != int(c.get("index")):
                    raise SpecError(f"{path}: class {c.get('name')} index differs")
                existing[2].extend(c.findall("method"))

    def methods(self):
        out = []
        for name, index, elems in self.classes:
            out.extend(Method(name, index, e, self.domains) for e in elems)
        keys, structs = set(), set()
        for m in out:
            if m.key in keys or m.struct in structs:
                raise SpecError(f"duplicate method {m.full_name}")
            keys.add(m.key)
            structs.add(m.struct)
        return out


def cpp_str(data):
    """A C++ string literal for `data` (bytes); octal escapes cannot run on."""
    out = ['"']
    for b in data:
        ch = chr(b)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= b < 0x7F:
            out.append(ch)
        else:
            out.append("\\%03o" % b)
    out.append('"')
    return "".join(out)


def header_banner(spec):
    return (f"// Generated by gen_amqp.py from {' + '.join(spec.sources)}. Do not edit.\n")


# ---------------------------------------------------------------------------
# constants.hpp


def gen_constants_hpp(spec):
    lines = ["#pragma once", header_banner(spec).rstrip(), "",
             "#include <cstdint>", "#include <string_view>", "",
             '#include "warren/protocol/frame.hpp"', "",
             "namespace warren::protocol {", ""]
    for name, value, _ in spec.constants:
        if name in DEFINED_IN_FRAME_HPP:
            ident = DEFINED_IN_FRAME_HPP[name]
            lines.append(f'static_assert({ident} == {value}, "frame.hpp disagrees with the spec");')
        else:
            lines.append(f"inline constexpr std::uint16_t k{pascal(name)} = {value};")
    lines += [
        "",
        "// The spec's upper-case name of a reply code (\"NOT_FOUND\"), which",
        "// RabbitMQ puts in front of reply texts; empty for unknown codes.",
        "std::string_view reply_text_name(std::uint16_t code);",
        "// True for codes the spec classes as hard errors (connection.close),",
        "// false for soft errors (channel.close), success and unknown codes.",
        "bool is_hard_error(std::uint16_t code);",
        "",
        "}  // namespace warren::protocol",
        "",
    ]
    return "\n".join(lines)


def reply_codes(spec):
    return [(n, v, cls) for n, v, cls in spec.constants if cls or n == "reply-success"]


# ---------------------------------------------------------------------------
# methods.hpp


def gen_methods_hpp(spec, methods):
    L = ["#pragma once", header_banner(spec).rstrip(),
         "// One struct per AMQP method, the Method variant and the method frame codec.",
         "",
         "#include <cstdint>",
         "#include <span>",
         "#include <string>",
         "#include <string_view>",
         "#include <variant>",
         "",
         '#include "warren/protocol/codec.hpp"',
         '#include "warren/protocol/constants.hpp"',
         '#include "warren/protocol/field_table.hpp"',
         '#include "warren/protocol/frame.hpp"',
         "",
         "namespace warren::protocol {",
         "namespace method {",
         ""]
    for m in methods:
        L.append(f"// {m.full_name}")
        L.append(f"struct {m.struct} {{")
        L.append(f"  static constexpr std::uint16_t kClassId = {m.class_id};")
        L.append(f"  static constexpr std::uint16_t kMethodId = {m.method_id};")
        L.append(f'  static constexpr std::string_view kName = "{m.full_name}";')
        L.append(f"  static constexpr bool kHasContent = {'true' if m.content else 'false'};")
        L.append(f"  static constexpr bool kSynchronous = {'true' if m.synchronous else 'false'};")
        for f in m.fields:
            init = f" = {f.default}" if f.default is not None else ""
            L.append(f"  {f.cpp_type} {f.ident}{init};")
        L.append("")
        L.append("  void encode_arguments(Encoder& enc) const;")
        L.append(f"  static bool decode_arguments(Decoder& dec, {m.struct}& out);")
        L.append(f"  friend bool operator==(const {m.struct}&, const {m.struct}&) = default;")
        L.append("};")
        L.append("")
    L.append("}  // namespace method")
    L.append("")
    L.append("using Method = std::variant<")
    L.append(",\n".join(f"    method::{m.struct}" for m in methods) + ">;")
    L += [
        "",
        "enum class MethodStatus { kOk, kUnknownMethod, kMalformed };",
        "",
        "struct MethodDecode {",
        "  MethodStatus status = MethodStatus::kMalformed;",
        "  std::uint16_t class_id = 0;   // filled whenever the payload has 4 bytes",
        "  std::uint16_t method_id = 0;",
        "  Method method;  // meaningful only when status == kOk",
        "};",
        "",
        "// Decodes a method frame payload (class id, method id, arguments). Fewer",
        "// than 4 bytes, arguments that do not parse, or bytes left over after the",
        "// arguments give kMalformed; an id pair the spec lacks gives kUnknownMethod.",
        "MethodDecode decode_method(std::span<const std::uint8_t> method_frame_payload);",
        "",
        "// Appends class id, method id and arguments (a method frame's payload).",
        "template <typename M>",
        "  requires requires { M::kClassId; }",
        "void encode_method(Encoder& enc, const M& m) {",
        "  enc.u16(M::kClassId);",
        "  enc.u16(M::kMethodId);",
        "  m.encode_arguments(enc);",
        "}",
        "void encode_method(Encoder& enc, const Method& m);",
        "",
        "// Appends a complete method frame (type 1, channel, size, payload, 0xCE).",
        "template <typename M>",
        "  requires requires { M::kClassId; }",
        "void write_method_frame(Bytes& out, std::uint16_t channel, const M& m) {",
        "  const std::size_t begin = begin_frame(out, FrameType::kMethod, channel);",
        "  Encoder enc(out);",
        "  encode_method(enc, m);",
        "  end_frame(out, begin);",
        "}",
        "void write_method_frame(Bytes& out, std::uint16_t channel, const Method& m);",
        "",
        "// \"basic.publish\" for (60, 40); \"unknown\" for ids the spec lacks.",
        "std::string_view method_name(std::uint16_t class_id, std::uint16_t method_id);",
        "std::string_view method_name(const Method& m);",
        "// Whether the method is followed by a content header and body (false for",
        "// unknown ids).",
        "bool method_has_content(std::uint16_t class_id, std::uint16_t method_id);",
        "",
        "}  // namespace warren::protocol",
        "",
    ]
    return "\n".join(L)


# ---------------------------------------------------------------------------
# methods.cpp


def bit_groups(fields):
    """Splits fields into runs: ('bits', [fields]) of at most 8, or ('field', f)."""
    groups = []
    for f in fields:
        if f.type == "bit":
            if groups and groups[-1][0] == "bits" and len(groups[-1][1]) < 8:
                groups[-1][1].append(f)
            else:
                groups.append(("bits", [f]))
        else:
            groups.append(("field", f))
    return groups


def gen_encode(m):
    if not m.fields:
        return [f"void {m.struct}::encode_arguments(Encoder&) const {{}}", ""]
    L = [f"void {m.struct}::encode_arguments(Encoder& enc) const {{"]
    for kind, item in bit_groups(m.fields):
        if kind == "bits":
            terms = [f"({f.ident} ? 0x{1 << i:02X}u : 0u)" for i, f in enumerate(item)]
            L.append(f"  enc.u8(static_cast<std::uint8_t>({' | '.join(terms)}));")
        else:
            L.append(f"  enc.{item.codec}({item.ident});")
    L += ["}", ""]
    return L


def gen_decode(m):
    if not m.fields:
        return [f"bool {m.struct}::decode_arguments(Decoder& dec, {m.struct}&) {{",
                "  return !dec.failed();", "}", ""]
    L = [f"bool {m.struct}::decode_arguments(Decoder& dec, {m.struct}& out) {{"]
    for kind, item in bit_groups(m.fields):
        if kind == "bits":
            L.append("  {")
            L.append("    const std::uint8_t bits = dec.u8();")
            for i, f in enumerate(item):
                L.append(f"    out.{f.ident} = (bits & 0x{1 << i:02X}u) != 0;")
            L.append("  }")
        else:
            L.append(f"  out.{item.ident} = dec.{item.codec}();")
    L += ["  return !dec.failed();", "}", ""]
    return L


def gen_methods_cpp(spec, methods):
    L = [header_banner(spec).rstrip(), "",
         '#include "warren/protocol/methods.hpp"', "",
         "namespace warren::protocol {", ""]

    L.append("std::string_view reply_text_name(std::uint16_t code) {")
    L.append("  switch (code) {")
    for name, value, _ in reply_codes(spec):
        L.append(f'    case {value}: return "{name.upper().replace("-", "_")}";')
    L += ["    default: return {};", "  }", "}", ""]

    L.append("bool is_hard_error(std::uint16_t code) {")
    L.append("  switch (code) {")
    for name, value, cls in reply_codes(spec):
        if cls == "hard-error":
            L.append(f"    case {value}:  // {name}")
    L += ["      return true;", "    default:", "      return false;", "  }", "}", ""]

    L.append("namespace method {")
    L.append("")
    for m in methods:
        L += gen_encode(m)
        L += gen_decode(m)
    L.append("}  // namespace method")
    L.append("")

    L += [
        "namespace {",
        "",
        "constexpr std::uint32_t key(std::uint16_t class_id, std::uint16_t method_id) {",
        "  return (static_cast<std::uint32_t>(class_id) << 16) | method_id;",
        "}",
        "",
        "template <typename M>",
        "void decode_into(Decoder& dec, MethodDecode& r) {",
        "  M& m = r.method.emplace<M>();",
        "  const bool ok = M::decode_arguments(dec, m) && dec.remaining() == 0;",
        "  r.status = ok ? MethodStatus::kOk : MethodStatus::kMalformed;",
        "}",
        "",
        "}  // namespace",
        "",
        "MethodDecode decode_method(std::span<const std::uint8_t> payload) {",
        "  MethodDecode r;",
        "  if (payload.size() < 4) return r;",
        "  Decoder dec(payload);",
        "  r.class_id = dec.u16();",
        "  r.method_id = dec.u16();",
        "  switch (key(r.class_id, r.method_id)) {",
    ]
    for m in methods:
        L.append(f"    case key({m.class_id}, {m.method_id}):")
        L.append(f"      decode_into<method::{m.struct}>(dec, r);")
        L.append("      break;")
    L += ["    default:",
          "      r.status = MethodStatus::kUnknownMethod;",
          "      break;",
          "  }",
          "  return r;",
          "}",
          "",
          "void encode_method(Encoder& enc, const Method& m) {",
          "  std::visit([&enc](const auto& alt) { encode_method(enc, alt); }, m);",
          "}",
          "",
          "void write_method_frame(Bytes& out, std::uint16_t channel, const Method& m) {",
          "  std::visit([&](const auto& alt) { write_method_frame(out, channel, alt); }, m);",
          "}",
          "",
          "std::string_view method_name(std::uint16_t class_id, std::uint16_t method_id) {",
          "  switch (key(class_id, method_id)) {"]
    for m in methods:
        L.append(f"    case key({m.class_id}, {m.method_id}):")
        L.append(f"      return method::{m.struct}::kName;")
    L += ["    default:",
          '      return "unknown";',
          "  }",
          "}",
          "",
          "std::string_view method_name(const Method& m) {",
          "  return std::visit([](const auto& alt) { return alt.kName; }, m);",
          "}",
          "",
          "bool method_has_content(std::uint16_t class_id, std::uint16_t method_id) {",
          "  switch (key(class_id, method_id)) {"]
    for m in methods:
        if m.content:
            L.append(f"    case key({m.class_id}, {m.method_id}):")
    L += ["      return true;",
          "    default:",
          "      return false;",
          "  }",
          "}",
          "",
          "}  // namespace warren::protocol",
          ""]
    return "\n".join(L)


# ---------------------------------------------------------------------------
# Test fixtures: pattern 0 sets every bit and uses boundary-sized strings
# (255-byte shortstr, >64 KiB longstr, nested table); 1 and 2 alternate the
# bits and use other values, so bit positions cannot be swapped unnoticed.


def sample_value(f, index, pattern, m):
    tag = f"{m.full_name}.{f.name}".encode()
    if f.type == "octet":
        return f"static_cast<std::uint8_t>({0xA1 + index + 16 * pattern})"
    if f.type == "short":
        return f"static_cast<std::uint16_t>({0xBE01 + index + 256 * pattern})"
    if f.type == "long":
        return f"static_cast<std::uint32_t>({0xDEAD0001 + index + 65536 * pattern}u)"
    if f.type in ("longlong", "timestamp"):
        return f"static_cast<std::uint64_t>(0x{0xF1E2D3C4B5A69700 + index + 256 * pattern:016X}ull)"
    if f.type == "shortstr":
        if pattern == 0:
            return f"std::string(255, '{chr(ord('a') + index % 26)}')"
        if pattern == 1:
            return f"std::string({cpp_str(tag)})"
        return f"std::string({cpp_str(b'a' + bytes([0, 0xFF]) + tag)}, {len(tag) + 3})"
    if f.type == "longstr":
        if pattern == 0:
            return f"std::string(70000, '{chr(ord('A') + index % 26)}')"
        if pattern == 1:
            return f"std::string({cpp_str(tag)})"
        return f"std::string({cpp_str(bytes([0, 1, 0xCE]) + tag)}, {len(tag) + 3})"
    if f.type == "table":
        if pattern == 0:
            return ("FieldTable{FieldEntry{\"s\", std::string(\"str\")},"
                    " FieldEntry{\"i\", std::int32_t{-7}},"
                    " FieldEntry{\"nested\", FieldTable{FieldEntry{\"b\", true},"
                    " FieldEntry{\"a\", FieldArray{std::int64_t{1}, Void{}}}}}}")
        if pattern == 1:
            return f"FieldTable{{FieldEntry{{{cpp_str(tag)}, std::string(\"v\")}}}}"
        return "FieldTable{FieldEntry{\"\", Timestamp{42}}, FieldEntry{\"d\", Decimal{2, 12345}}}"
    raise SpecError(f"no sample for {f.type}")


def gen_samples(spec, methods):
    L = ["#pragma once", header_banner(spec).rstrip(),
         "// Test fixtures: every method with non-default values in every field.",
         "", "#include <cstdint>", "#include <string>", "#include <utility>", "#include <vector>", "",
         '#include "warren/protocol/methods.hpp"', "",
         "namespace warren::protocol::samples {", "",
         f"inline constexpr int kPatterns = 3;",
         f"inline constexpr std::size_t kMethodCount = {len(methods)};",
         "",
         "// pattern 0: all bits set, boundary-sized strings; 1 and 2: alternating bits.",
         "inline std::vector<Method> sample_methods(int pattern) {",
         "  std::vector<Method> v;",
         f"  v.reserve({len(methods)});"]
    for m in methods:
        L.append("  {")
        L.append(f"    method::{m.struct} m;")
        bit_index = 0
        for i, f in enumerate(m.fields):
            if f.type == "bit":
                L.append(f"    m.{f.ident} = pattern == 0 || pattern == {1 + bit_index % 2};")
                bit_index += 1
            else:
                L.append(f"    switch (pattern) {{")
                for p in range(3):
                    label = "default" if p == 2 else f"case {p}"
                    L.append(f"      {label}: m.{f.ident} = {sample_value(f, i, p, m)}; break;")
                L.append("    }")
        L.append("    v.emplace_back(std::move(m));")
        L.append("  }")
    L += ["  return v;", "}", "", "}  // namespace warren::protocol::samples", ""]
    return "\n".join(L)


# ---------------------------------------------------------------------------


def write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", required=True)
    ap.add_argument("--extra", action="append", default=[])
    ap.add_argument("--out-dir")
    ap.add_argument("--samples")
    args = ap.parse_args(argv)
    if not args.out_dir and not args.samples:
        ap.error("need --out-dir or --samples")
    try:
        spec = Spec()
        spec.load(args.spec)
        for extra in args.extra:
            spec.load(extra)
        methods = spec.methods()
        if args.out_dir:
            base = os.path.join(args.out_dir, "warren", "protocol")
            write(os.path.join(base, "constants.hpp"), gen_constants_hpp(spec))
            write(os.path.join(base, "methods.hpp"), gen_methods_hpp(spec, methods))
            write(os.path.join(base, "methods.cpp"), gen_methods_cpp(spec, methods))
        if args.samples:
            write(args.samples, gen_samples(spec, methods))
    except (SpecError, ET.ParseError, OSError) as e:
        print(f"gen_amqp.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
