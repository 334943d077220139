#include "train/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <unordered_set>

#include "core/error.h"
#include "core/ops.h"
#include "data/atomic_file.h"

namespace strata {

// The format is little-endian; we copy tensor memory as is.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;  // keeps the header's key order (= our write order)

constexpr const char* kMetadataKey = "__metadata__";

struct DTypeName {
  DType dtype;
  const char* name;
};
constexpr DTypeName kDTypeNames[] = {{DType::f32, "F32"}, {DType::f64, "F64"}, {DType::bf16, "BF16"},
                                     {DType::i32, "I32"}, {DType::i64, "I64"}, {DType::u8, "U8"}};

std::optional<DType> dtype_from_name(const std::string& name) {
  for (const auto& entry : kDTypeNames) {
    if (name == entry.name) return entry.dtype;
  }
  return std::nullopt;
}

// Throws "read_safetensors: <path>: <message>".
template <typename... Args>
[[noreturn]] void refuse(const std::string& path, fmt::format_string<Args...> format, Args&&... args) {
  fail("read_safetensors", "{}: {}", path, fmt::format(format, std::forward<Args>(args)...));
}

// numel * element size, or nullopt when it does not fit in 64 bits (a
// hostile shape must not wrap around to a small size).
std::optional<uint64_t> byte_size(const Shape& shape, DType dtype) {
  uint64_t bytes = dtype_size(dtype);
  for (int64_t dim : shape) {
    if (__builtin_mul_overflow(bytes, uint64_t(dim), &bytes)) return std::nullopt;
  }
  return bytes;
}

// ---- writing -------------------------------------------------------------------

std::string build_header(const std::vector<NamedTensor>& tensors,
                         const std::map<std::string, std::string>& metadata, const std::string& path) {
  Json header = Json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::unordered_set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name.empty() || name == kMetadataKey) fail("write_safetensors", "{}: invalid tensor name '{}'", path, name);
    if (!names.insert(name).second) fail("write_safetensors", "{}: duplicate tensor name '{}'", path, name);
    if (!tensor.defined()) fail("write_safetensors", "{}: tensor '{}' is undefined", path, name);
    if (tensor.device() != Device::cpu()) {
      fail("write_safetensors", "{}: tensor '{}' is on {}; copy it to the CPU first", path, name,
           tensor.device().str());
    }
    const uint64_t end = offset + tensor.nbytes();
    Json info = Json::object();
    info["dtype"] = safetensors_dtype_name(tensor.dtype());
    info["shape"] = tensor.shape();
    info["data_offsets"] = Json::array({offset, end});
    header[name] = std::move(info);
    offset = end;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {  // e.g. a name that is not valid UTF-8
    fail("write_safetensors", "{}: cannot encode the header: {}", path, e.what());
  }
  // Spaces are JSON whitespace; padding makes the data section 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

// ---- reading -------------------------------------------------------------------

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

uint64_t read_header_length(std::ifstream& in, const std::string& path, uint64_t file_size) {
  if (file_size < 8) {
    refuse(path, "truncated header: the file has {} bytes, fewer than the 8-byte header length", file_size);
  }
  unsigned char bytes[8];
  in.read(reinterpret_cast<char*>(bytes), 8);
  if (in.gcount() != 8) refuse(path, "cannot read the 8-byte header length");
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | bytes[i];
  if (length > kSafetensorsMaxHeader) {
    refuse(path, "header length {} exceeds the limit of {} bytes (not a safetensors file?)", length,
           kSafetensorsMaxHeader);
  }
  if (length > file_size - 8) {
    refuse(path, "header length {} runs past the end of the file ({} bytes: truncated?)", length, file_size);
  }
  return length;
}

// Parses the header, refusing duplicate keys at any level (JSON allows them;
// a safetensors header that has them is ambiguous).
Json parse_header(const std::string& text, const std::string& path) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto check_keys = [&](int, nlohmann::json::parse_event_t event, Json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) open_objects.emplace_back();
    if (event == Event::object_end) open_objects.pop_back();
    if (event == Event::key && !open_objects.back().insert(parsed.get<std::string>()).second) {
      if (duplicate.empty()) duplicate = parsed.get<std::string>();
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(text, check_keys);
  } catch (const nlohmann::json::exception& e) {
    refuse(path, "the header is not valid JSON: {}", e.what());
  }
  if (!duplicate.empty()) refuse(path, "duplicate key '{}' in the header", duplicate);
  if (!header.is_object()) refuse(path, "the header is a JSON {}, not an object", header.type_name());
  return header;
}

std::map<std::string, std::string> parse_metadata(const Json& value, const std::string& path) {
  if (!value.is_object()) refuse(path, "\"{}\" is a JSON {}, not an object", kMetadataKey, value.type_name());
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) refuse(path, "metadata '{}' is a JSON {}, not a string", key, item.type_name());
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

// A JSON array of non-negative integers (each at most `max`), or an error
// naming the tensor and field.
std::vector<uint64_t> unsigned_array(const Json& value, const std::string& name, const char* field,
                                     uint64_t max, const std::string& path) {
  if (!value.is_array()) refuse(path, "tensor '{}': \"{}\" is not an array", name, field);
  std::vector<uint64_t> numbers;
  for (const auto& item : value) {
    if (!item.is_number_unsigned() || item.get<uint64_t>() > max) {
      refuse(path, "tensor '{}': \"{}\" holds {}, not a non-negative integer", name, field, item.dump());
    }
    numbers.push_back(item.get<uint64_t>());
  }
  return numbers;
}

Entry parse_entry(const std::string& name, const Json& info, const std::string& path) {
  if (!info.is_object()) refuse(path, "tensor '{}': its entry is a JSON {}, not an object", name, info.type_name());
  for (const auto& [field, value] : info.items()) {
    if (field != "dtype" && field != "shape" && field != "data_offsets") {
      refuse(path, "tensor '{}': unknown field \"{}\"", name, field);
    }
  }
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!info.contains(field)) refuse(path, "tensor '{}': missing \"{}\"", name, field);
  }
  if (!info["dtype"].is_string()) refuse(path, "tensor '{}': \"dtype\" is not a string", name);
  const std::string dtype_text = info["dtype"].get<std::string>();
  const std::optional<DType> dtype = dtype_from_name(dtype_text);
  if (!dtype) refuse(path, "tensor '{}': unsupported dtype '{}' (Strata reads F32, F64, BF16, I32, I64, U8)", name,
                     dtype_text);

  const auto dims = unsigned_array(info["shape"], name, "shape", uint64_t(INT64_MAX), path);
  const Shape shape(dims.begin(), dims.end());
  const auto offsets = unsigned_array(info["data_offsets"], name, "data_offsets", UINT64_MAX, path);
  if (offsets.size() != 2) refuse(path, "tensor '{}': \"data_offsets\" must hold [begin, end]", name);
  const uint64_t begin = offsets[0], end = offsets[1];
  if (end < begin) refuse(path, "tensor '{}': data_offsets [{}, {}] end before they begin", name, begin, end);

  const std::optional<uint64_t> bytes = byte_size(shape, *dtype);
  if (!bytes) refuse(path, "tensor '{}': shape {} is too large", name, shape_str(shape));
  if (end - begin != *bytes) {
    refuse(path, "tensor '{}': shape {} of {} needs {} bytes, but data_offsets [{}, {}] hold {}", name,
           shape_str(shape), dtype_text, *bytes, begin, end, end - begin);
  }
  return {name, *dtype, shape, begin, end};
}

// Sorts entries into file order and checks that they tile [0, data_size).
void check_layout(std::vector<Entry>& entries, uint64_t data_size, const std::string& path) {
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    if (e.end > data_size) {
      refuse(path, "tensor '{}': data_offsets [{}, {}] run past the data section ({} bytes: truncated?)", e.name,
             e.begin, e.end, data_size);
    }
    if (e.begin < covered) {
      refuse(path, "tensor '{}': data_offsets [{}, {}] overlap tensor '{}' (which ends at {})", e.name, e.begin,
             e.end, previous->name, covered);
    }
    if (e.begin > covered) {
      refuse(path, "tensor '{}': data_offsets [{}, {}] leave a gap of {} bytes after byte {}", e.name, e.begin,
             e.end, e.begin - covered, covered);
    }
    covered = e.end;
    previous = &e;
  }
  if (covered != data_size) {
    refuse(path, "the data section has {} bytes but the tensors cover {} (trailing bytes)", data_size, covered);
  }
}

}  // namespace

std::string safetensors_dtype_name(DType dtype) {
  for (const auto& entry : kDTypeNames) {
    if (entry.dtype == dtype) return entry.name;
  }
  fail("safetensors", "no safetensors name for dtype {}", dtype_name(dtype));
}

void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string header = build_header(tensors, metadata, path);
  data::AtomicFile file(path);
  unsigned char length[8];
  for (int i = 0; i < 8; ++i) length[i] = uint8_t(uint64_t(header.size()) >> (8 * i));
  file.write(length, 8);
  file.write(header.data(), header.size());
  for (const auto& [name, tensor] : tensors) {
    const Tensor bytes = ops::contiguous(tensor);
    if (bytes.nbytes() > 0) file.write(bytes.raw_data(), bytes.nbytes());
  }
  file.commit();
}

SafetensorsFile read_safetensors(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) refuse(path, "file not found");
  const uint64_t file_size = fs::file_size(path, ec);
  if (ec) refuse(path, "cannot stat: {}", ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) refuse(path, "cannot open for reading");

  const uint64_t header_size = read_header_length(in, path, file_size);
  std::string text(header_size, '\0');
  in.read(text.data(), std::streamsize(header_size));
  if (uint64_t(in.gcount()) != header_size) refuse(path, "cannot read the {}-byte header", header_size);
  const Json header = parse_header(text, path);

  SafetensorsFile file;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == kMetadataKey) {
      file.metadata = parse_metadata(value, path);
    } else {
      entries.push_back(parse_entry(key, value, path));
    }
  }
  const uint64_t data_size = file_size - 8 - header_size;
  check_layout(entries, data_size, path);

  // Entries are in file order and tile the data section: one sequential read.
  for (const Entry& e : entries) {
    Tensor tensor = empty(e.shape, {e.dtype, Device::cpu()});
    const uint64_t bytes = e.end - e.begin;
    if (bytes > 0) {
      in.read(static_cast<char*>(tensor.raw_data()), std::streamsize(bytes));
      if (uint64_t(in.gcount()) != bytes) {
        refuse(path, "tensor '{}': read {} of {} bytes (the file shrank while reading?)", e.name, in.gcount(), bytes);
      }
    }
    file.tensors.emplace_back(e.name, std::move(tensor));
  }
  return file;
}

}  // namespace strata
