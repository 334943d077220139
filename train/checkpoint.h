#pragma once
// Checkpoints: everything a run needs to continue bit-identically, in ONE
// safetensors file (so the Python safetensors package and PyTorch read the
// weights directly).
//
// Tensors, in this order:
//   "model.<key>"       every entry of module.state_dict()
//   "optimizer.<name>"  every entry of optimizer.state() (e.g. exp_avg)
// "__metadata__" (all values are strings):
//   format           "strata-checkpoint-1"
//   step, epoch      optimizer steps taken, current epoch (decimal)
//   data_epoch, data_batch   the next batch the train loader would produce
//   rng_seed, rng_offset     the default generator's PhiloxState (decimal)
//   config           the fully resolved run config (YAML text)
//   extra.<k>        anything else the trainer keeps
//   checksum         CRC32 of all tensor bytes (the data section), 8 lowercase hex
//   header_checksum  CRC32 of the tensor names, dtypes and shapes and of every
//                    other metadata entry (see header_digest in checkpoint.cpp),
//                    so a flipped byte anywhere in the file is refused, not
//                    only in the data
//
// Files are written atomically (see AtomicFile): a crash leaves the previous
// file intact. CheckpointManager names them and keeps the last K.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/philox.h"
#include "data/loader.h"
#include "layers/module.h"
#include "layers/state_dict.h"
#include "train/optimizer.h"

namespace strata {

inline constexpr const char* kCheckpointFormat = "strata-checkpoint-1";

struct CheckpointState {
  StateDict model;                           // module.state_dict()
  std::vector<NamedTensor> optimizer;        // optimizer.state() (e.g. exp_avg, exp_avg_sq over the arena)
  int64_t step = 0;                          // optimizer steps taken
  int64_t epoch = 0;
  data::LoaderPosition data_position;        // the next batch the train loader would produce
  PhiloxState rng;                           // the default generator's state (dropout etc.)
  std::string config_yaml;                   // the fully resolved run config
  std::map<std::string, std::string> extra;  // anything else the trainer wants to keep
};

// Writes atomically. Tensors must be CPU tensors (they are written as they
// are, so bf16 stays bf16).
void save_checkpoint(const std::string& path, const CheckpointState& state);
// Validates the safetensors layout, the format, both checksums and every
// field; errors name the file. Tensors come back as CPU copies.
CheckpointState load_checkpoint(const std::string& path);

// Copies a loaded checkpoint into a live model / optimizer in place (arena
// views stay bound). Keys and shapes must match exactly; errors name the key,
// and nothing is copied when anything mismatches. restore_optimizer also sets
// the optimizer's step count to state.step.
void restore_model(Module& model, const CheckpointState& state);
void restore_optimizer(Optimizer& optimizer, const CheckpointState& state);

// A run's checkpoint folder (e.g. OUT/checkpoints/):
//   step_<N>.safetensors   the last `keep_last` by step number (plus the one
//                          just written, whatever its number)
//   last.safetensors       the newest complete checkpoint, always
// save() writes step_<N>, then atomically points last.safetensors at the same
// bytes (a hard link, or a copy where links are unsupported) and only then
// prunes old files. A crash at any point leaves the previous last.safetensors
// loadable; stray "*.tmp" files from an interrupted save are ignored by
// latest() and removed by the next save(). One writer per folder.
class CheckpointManager {
 public:
  explicit CheckpointManager(std::string directory, int keep_last = 3);

  std::string save(const CheckpointState& state);  // returns the path written
  std::optional<std::string> latest() const;       // path of last.safetensors if present
  const std::string& directory() const { return directory_; }
  int keep_last() const { return keep_last_; }

 private:
  void prune(const std::string& just_written) const;

  std::string directory_;
  int keep_last_;
};

}  // namespace strata
