#include "train/checkpoint.h"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "core/error.h"
#include "core/ops.h"
#include "data/atomic_file.h"
#include "train/safetensors.h"

namespace strata {

namespace {

namespace fs = std::filesystem;

constexpr const char* kModelPrefix = "model.";
constexpr const char* kOptimizerPrefix = "optimizer.";
constexpr const char* kExtraPrefix = "extra.";
constexpr const char* kLastName = "last.safetensors";

template <typename... Args>
[[noreturn]] void refuse(const std::string& path, fmt::format_string<Args...> format, Args&&... args) {
  fail("load_checkpoint", "{}: {}", path, fmt::format(format, std::forward<Args>(args)...));
}

uint32_t crc_update(uint32_t crc, const void* data, size_t size) {
  return uint32_t(crc32_z(crc, static_cast<const Bytef*>(data), size));
}

std::string hex32(uint32_t value) { return fmt::format("{:08x}", value); }

// CRC32 of the tensors' bytes in order: the data section of the file.
uint32_t data_digest(const std::vector<NamedTensor>& tensors) {
  uint32_t crc = crc_update(0, nullptr, 0);
  for (const auto& [name, t] : tensors) {
    if (t.nbytes() > 0) crc = crc_update(crc, t.raw_data(), t.nbytes());
  }
  return crc;
}

// CRC32 of everything in the header that the data checksum does not cover:
// each tensor's "name\0DTYPE\0[shape]\0" in file order, then each metadata
// "key\0value\0" in key order, except the two checksums themselves. (Offsets
// need no digest: the reader checks that they tile the data section in
// order, so names and shapes determine them.)
uint32_t header_digest(const std::vector<NamedTensor>& tensors, const std::map<std::string, std::string>& metadata) {
  uint32_t crc = crc_update(0, nullptr, 0);
  auto add = [&crc](const std::string& text) { crc = crc_update(crc, text.c_str(), text.size() + 1); };
  for (const auto& [name, t] : tensors) {
    add(name);
    add(safetensors_dtype_name(t.dtype()));
    add(shape_str(t.shape()));
  }
  for (const auto& [key, value] : metadata) {
    if (key == "checksum" || key == "header_checksum") continue;
    add(key);
    add(value);
  }
  return crc;
}

// ---- save --------------------------------------------------------------------

std::vector<NamedTensor> checkpoint_tensors(const CheckpointState& state) {
  std::vector<NamedTensor> tensors;
  for (const auto& [key, t] : state.model) tensors.emplace_back(kModelPrefix + key, ops::contiguous(t));
  for (const auto& [name, t] : state.optimizer) tensors.emplace_back(kOptimizerPrefix + name, ops::contiguous(t));
  return tensors;
}

std::map<std::string, std::string> checkpoint_metadata(const CheckpointState& state) {
  std::map<std::string, std::string> metadata = {
      {"format", kCheckpointFormat},
      {"step", std::to_string(state.step)},
      {"epoch", std::to_string(state.epoch)},
      {"data_epoch", std::to_string(state.data_position.epoch)},
      {"data_batch", std::to_string(state.data_position.batch)},
      {"rng_seed", std::to_string(state.rng.seed)},
      {"rng_offset", std::to_string(state.rng.offset)},
      {"config", state.config_yaml},
  };
  for (const auto& [key, value] : state.extra) metadata[kExtraPrefix + key] = value;
  return metadata;
}

// ---- load --------------------------------------------------------------------

const std::string& required(const std::map<std::string, std::string>& metadata, const std::string& key,
                            const std::string& path) {
  const auto it = metadata.find(key);
  if (it == metadata.end()) refuse(path, "metadata '{}' is missing", key);
  return it->second;
}

// A decimal integer, the whole string (no sign for unsigned types, no spaces).
template <typename Int>
Int parse_integer(const std::map<std::string, std::string>& metadata, const std::string& key, const std::string& path) {
  const std::string& text = required(metadata, key, path);
  Int value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    refuse(path, "metadata '{}' is '{}', not an integer", key, text);
  }
  return value;
}

void check_format_and_checksums(const SafetensorsFile& file, const std::string& path) {
  const auto format = file.metadata.find("format");
  if (format == file.metadata.end()) refuse(path, "not a Strata checkpoint (no 'format' in its metadata)");
  if (format->second != kCheckpointFormat) {
    refuse(path, "format '{}', expected '{}'", format->second, kCheckpointFormat);
  }
  // Compared as text: the writer's exact spelling, so even a case flip in a
  // hex digit is caught.
  const std::string data_crc = hex32(data_digest(file.tensors));
  const std::string& stored_data = required(file.metadata, "checksum", path);
  if (stored_data != data_crc) {
    refuse(path, "checksum mismatch: the tensor data has CRC32 {}, the metadata says '{}' (corrupted file)", data_crc,
           stored_data);
  }
  const std::string header_crc = hex32(header_digest(file.tensors, file.metadata));
  const std::string& stored_header = required(file.metadata, "header_checksum", path);
  if (stored_header != header_crc) {
    refuse(path, "header checksum mismatch: CRC32 {}, the metadata says '{}' (corrupted file)", header_crc,
           stored_header);
  }
}

void split_tensors(std::vector<NamedTensor> tensors, CheckpointState& state, const std::string& path) {
  const std::string model(kModelPrefix), optimizer(kOptimizerPrefix);
  for (auto& [name, t] : tensors) {
    if (name.starts_with(model)) {
      state.model.insert(name.substr(model.size()), std::move(t));
    } else if (name.starts_with(optimizer)) {
      state.optimizer.emplace_back(name.substr(optimizer.size()), std::move(t));
    } else {
      refuse(path, "tensor '{}' is neither 'model.*' nor 'optimizer.*'", name);
    }
  }
}

// ---- CheckpointManager helpers ---------------------------------------------------

// N for "step_<N>.safetensors", or nullopt for any other name.
std::optional<int64_t> step_of(const std::string& filename) {
  const std::string prefix = "step_", suffix = ".safetensors";
  if (!filename.starts_with(prefix) || !filename.ends_with(suffix)) return std::nullopt;
  const char* first = filename.data() + prefix.size();
  const char* last = filename.data() + filename.size() - suffix.size();
  int64_t step = 0;
  const auto [end, error] = std::from_chars(first, last, step);
  if (first == last || error != std::errc() || end != last) return std::nullopt;
  return step;
}

}  // namespace

void save_checkpoint(const std::string& path, const CheckpointState& state) {
  const std::vector<NamedTensor> tensors = checkpoint_tensors(state);
  std::map<std::string, std::string> metadata = checkpoint_metadata(state);
  for (const auto& [name, t] : tensors) {
    if (t.device() != Device::cpu()) {
      fail("save_checkpoint", "{}: tensor '{}' is on {}; copy it to the CPU first", path, name, t.device().str());
    }
  }
  metadata["checksum"] = hex32(data_digest(tensors));
  metadata["header_checksum"] = hex32(header_digest(tensors, metadata));
  write_safetensors(path, tensors, metadata);
}

CheckpointState load_checkpoint(const std::string& path) {
  SafetensorsFile file = read_safetensors(path);
  check_format_and_checksums(file, path);
  const auto& meta = file.metadata;
  CheckpointState state;
  state.step = parse_integer<int64_t>(meta, "step", path);
  state.epoch = parse_integer<int64_t>(meta, "epoch", path);
  state.data_position.epoch = parse_integer<int64_t>(meta, "data_epoch", path);
  state.data_position.batch = parse_integer<int64_t>(meta, "data_batch", path);
  state.rng.seed = parse_integer<uint64_t>(meta, "rng_seed", path);
  state.rng.offset = parse_integer<uint64_t>(meta, "rng_offset", path);
  state.config_yaml = required(meta, "config", path);
  const std::string extra(kExtraPrefix);
  for (const auto& [key, value] : meta) {
    if (key.starts_with(extra)) state.extra.emplace(key.substr(extra.size()), value);
  }
  split_tensors(std::move(file.tensors), state, path);
  return state;
}

void restore_model(Module& model, const CheckpointState& state) {
  try {
    model.load_state_dict(state.model, /*strict=*/true);
  } catch (const Error& e) {
    fail("restore_model", "{}", e.what());
  }
}

void restore_optimizer(Optimizer& optimizer, const CheckpointState& state) {
  const std::vector<NamedTensor> own = optimizer.state();
  std::map<std::string, const Tensor*> saved;
  for (const auto& [name, t] : state.optimizer) saved.emplace(name, &t);
  // Check everything before copying anything, so a refused restore changes nothing.
  for (const auto& [name, dst] : own) {
    const auto it = saved.find(name);
    if (it == saved.end()) fail("restore_optimizer", "optimizer state '{}' is missing from the checkpoint", name);
    if (it->second->shape() != dst.shape()) {
      fail("restore_optimizer", "optimizer state '{}': the checkpoint has shape {}, the optimizer {}", name,
           shape_str(it->second->shape()), shape_str(dst.shape()));
    }
  }
  if (saved.size() != own.size()) {
    for (const auto& [name, t] : saved) {
      const bool known = std::any_of(own.begin(), own.end(), [&](const NamedTensor& o) { return o.first == name; });
      if (!known) fail("restore_optimizer", "the checkpoint has optimizer state '{}' that this optimizer lacks", name);
    }
  }
  for (const auto& [name, dst] : own) ops::copy_(dst, *saved.at(name));
  optimizer.set_step_count(state.step);
}

CheckpointManager::CheckpointManager(std::string directory, int keep_last)
    : directory_(std::move(directory)), keep_last_(keep_last) {
  if (keep_last_ < 1) fail("CheckpointManager", "keep_last must be at least 1, got {}", keep_last_);
}

std::string CheckpointManager::save(const CheckpointState& state) {
  std::error_code ec;
  fs::create_directories(directory_, ec);
  if (ec) fail("CheckpointManager", "cannot create {}: {}", directory_, ec.message());
  const std::string path = (fs::path(directory_) / fmt::format("step_{}.safetensors", state.step)).string();
  save_checkpoint(path, state);
  data::replace_with_link(path, (fs::path(directory_) / kLastName).string());
  prune(path);
  return path;
}

std::optional<std::string> CheckpointManager::latest() const {
  const fs::path last = fs::path(directory_) / kLastName;
  std::error_code ec;
  if (!fs::is_regular_file(last, ec)) return std::nullopt;
  return last.string();
}

void CheckpointManager::prune(const std::string& just_written) const {
  std::vector<std::pair<int64_t, fs::path>> steps;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(directory_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".safetensors.tmp")) {
      fs::remove(entry.path(), ec);  // left by an interrupted save; nobody else writes here
    } else if (const auto step = step_of(name); step && name != fs::path(just_written).filename().string()) {
      steps.emplace_back(*step, entry.path());
    }
  }
  std::sort(steps.begin(), steps.end());
  // The file just written counts as one of the K kept.
  const size_t keep_others = size_t(keep_last_ - 1);
  for (size_t i = 0; i + keep_others < steps.size(); ++i) fs::remove(steps[i].second, ec);
}

}  // namespace strata
