// Checkpoints: a model + AdamW round trip restores bitwise (and the next step
// matches), every field survives, mismatches are refused by key, corrupted
// files (truncated, any single flipped byte) are refused by name while the
// previous last.safetensors stays loadable, and CheckpointManager keeps the
// last K with last.safetensors tracking the newest, through interrupted saves.
#include <gtest/gtest.h>

#include <set>

#include "core/ops.h"
#include "core/random.h"
#include "layers/layer_norm.h"
#include "layers/linear.h"
#include "layers/parameter_arena.h"
#include "tests/train/file_fixtures.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/safetensors.h"
#include "train/sgd.h"

namespace strata {
namespace {

using testing::expect_error;
using testing::read_bytes;
using testing::TempFolder;
using testing::write_bytes;
namespace fs = std::filesystem;

// A small model with f32 parameters and i64 / bf16 buffers.
class Net : public Module {
 public:
  Net(uint64_t seed, int64_t width = 4) {
    Generator gen(seed);
    fc = register_module("fc", std::make_shared<Linear>(width, 3, LinearOptions{.generator = &gen}));
    norm = register_module("norm", std::make_shared<LayerNorm>(3));
    count = register_buffer("count", full({2}, double(seed), {DType::i64}));
    table = register_buffer("table", ops::cast(randn({2, 2}, {}, &gen), DType::bf16));
  }
  std::shared_ptr<Linear> fc;
  std::shared_ptr<LayerNorm> norm;
  Tensor count, table;
};

// A model, its arena and AdamW, trained a few steps on seeded gradients so
// that the moments are non-trivial.
struct Training {
  explicit Training(uint64_t seed, int64_t width = 4)
      : net(seed, width), arena(net), adamw(arena, AdamWOptions{.lr = 1e-2, .weight_decay = 0.1}) {}
  void step(uint64_t grad_seed) {
    Generator gen(grad_seed);
    ops::copy_(arena.grads(), randn({arena.numel()}, {}, &gen));
    adamw.step();
  }
  Net net;
  ParameterArena arena;
  AdamW adamw;
};

std::vector<uint8_t> bytes_of(const Tensor& t) {
  const Tensor c = ops::contiguous(t);
  const auto* p = static_cast<const uint8_t*>(c.raw_data());
  return std::vector<uint8_t>(p, p + c.nbytes());
}

CheckpointState state_of(const Training& run) {
  CheckpointState state;
  state.model = run.net.state_dict();
  state.optimizer = run.adamw.state();
  state.step = run.adamw.step_count();
  state.epoch = 2;
  state.data_position = {2, 17};
  state.rng = {0xffffffffffffffffull, 123456789012345678ull};  // beyond double precision
  state.config_yaml = "model:\n  name: \"vit\"  # ü\n  depth: 2\n";
  state.extra = {{"best_accuracy", "0.875"}, {"odd key.with dots", ""}};
  return state;
}

// Held by pointer: a Training's arena and optimizer refer into it, so it never moves.
std::unique_ptr<Training> trained_run(uint64_t seed, int steps) {
  auto run = std::make_unique<Training>(seed);
  for (int i = 0; i < steps; ++i) run->step(100 + uint64_t(i));
  return run;
}

TEST(Checkpoint, RoundTripRestoresBitwise) {
  TempFolder dir;
  Training a(1);
  for (int i = 0; i < 3; ++i) a.step(100 + uint64_t(i));
  const std::string path = dir / "ckpt.safetensors";
  save_checkpoint(path, state_of(a));

  const CheckpointState loaded = load_checkpoint(path);
  const CheckpointState expected = state_of(a);
  EXPECT_EQ(loaded.step, 3);
  EXPECT_EQ(loaded.epoch, 2);
  EXPECT_EQ(loaded.data_position, (data::LoaderPosition{2, 17}));
  EXPECT_EQ(loaded.rng.seed, expected.rng.seed);
  EXPECT_EQ(loaded.rng.offset, expected.rng.offset);
  EXPECT_EQ(loaded.config_yaml, expected.config_yaml);
  EXPECT_EQ(loaded.extra, expected.extra);
  ASSERT_EQ(loaded.model.keys(), expected.model.keys());
  for (const auto& [key, t] : expected.model) {
    EXPECT_EQ(loaded.model.at(key).dtype(), t.dtype()) << key;
    EXPECT_EQ(bytes_of(loaded.model.at(key)), bytes_of(t)) << key;
  }
  ASSERT_EQ(loaded.optimizer.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(loaded.optimizer[i].first, expected.optimizer[i].first);
    EXPECT_EQ(bytes_of(loaded.optimizer[i].second), bytes_of(expected.optimizer[i].second));
  }

  // Into a differently initialised model and optimizer: everything equal...
  Training b(2);
  restore_model(b.net, loaded);
  restore_optimizer(b.adamw, loaded);
  b.arena.check_bound();  // restored in place: the arena still owns the parameters
  EXPECT_EQ(b.adamw.step_count(), 3);
  EXPECT_EQ(bytes_of(b.arena.params()), bytes_of(a.arena.params()));
  EXPECT_EQ(bytes_of(b.net.count), bytes_of(a.net.count));
  EXPECT_EQ(bytes_of(b.net.table), bytes_of(a.net.table));
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(bytes_of(b.adamw.state()[i].second), bytes_of(a.adamw.state()[i].second));
  }
  // ...and the next steps are the same steps.
  for (int i = 3; i < 5; ++i) {
    a.step(100 + uint64_t(i));
    b.step(100 + uint64_t(i));
  }
  EXPECT_EQ(bytes_of(b.arena.params()), bytes_of(a.arena.params()));
}

TEST(Checkpoint, IsAPlainSafetensorsFile) {
  TempFolder dir;
  const auto run = trained_run(1, 2);
  save_checkpoint(dir / "c.safetensors", state_of(*run));
  const SafetensorsFile file = read_safetensors(dir / "c.safetensors");
  std::vector<std::string> names;
  for (const auto& [name, t] : file.tensors) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"model.count", "model.table", "model.fc.weight", "model.fc.bias",
                                             "model.norm.weight", "model.norm.bias", "optimizer.exp_avg",
                                             "optimizer.exp_avg_sq"}));
  const auto& meta = file.metadata;
  EXPECT_EQ(meta.at("format"), "strata-checkpoint-1");
  EXPECT_EQ(meta.at("step"), "2");
  EXPECT_EQ(meta.at("data_epoch"), "2");
  EXPECT_EQ(meta.at("data_batch"), "17");
  EXPECT_EQ(meta.at("rng_seed"), "18446744073709551615");
  EXPECT_EQ(meta.at("rng_offset"), "123456789012345678");
  EXPECT_EQ(meta.at("extra.best_accuracy"), "0.875");
  EXPECT_EQ(meta.at("checksum").size(), 8u);
  EXPECT_EQ(meta.at("header_checksum").size(), 8u);
}

TEST(Checkpoint, RestoreRefusesMismatchesByKeyAndChangesNothing) {
  TempFolder dir;
  const auto run = trained_run(1, 2);
  save_checkpoint(dir / "c.safetensors", state_of(*run));
  const CheckpointState loaded = load_checkpoint(dir / "c.safetensors");

  Training wider(3, /*width=*/5);
  const std::vector<uint8_t> before = bytes_of(wider.arena.params());
  expect_error([&] { restore_model(wider.net, loaded); }, {"restore_model", "fc.weight"});
  EXPECT_EQ(bytes_of(wider.arena.params()), before);
  expect_error([&] { restore_optimizer(wider.adamw, loaded); }, {"restore_optimizer", "exp_avg"});
  EXPECT_EQ(wider.adamw.step_count(), 0);

  Linear other(4, 3);
  expect_error([&] { restore_model(other, loaded); }, {"restore_model", "unexpected keys", "norm.weight"});

  Training sgd_run(3);
  SGD sgd(sgd_run.arena, SGDOptions{.momentum = 0.9});
  expect_error([&] { restore_optimizer(sgd, loaded); }, {"restore_optimizer", "momentum_buffer"});
  SGD plain(sgd_run.arena, SGDOptions{});  // no state at all: AdamW's moments are unexpected
  expect_error([&] { restore_optimizer(plain, loaded); }, {"restore_optimizer", "exp_avg"});
}

TEST(Checkpoint, OtherSafetensorsFilesAreRefused) {
  TempFolder dir;
  const std::string plain = dir / "plain.safetensors";
  write_safetensors(plain, {{"w", from_vector<float>({1}, {1})}});
  expect_error([&] { load_checkpoint(plain); }, {plain, "not a Strata checkpoint"});
  write_safetensors(plain, {}, {{"format", "strata-checkpoint-99"}});
  expect_error([&] { load_checkpoint(plain); }, {plain, "strata-checkpoint-99"});
  write_safetensors(plain, {}, {{"format", "strata-checkpoint-1"}});
  expect_error([&] { load_checkpoint(plain); }, {plain, "'checksum' is missing"});
  expect_error([&] { load_checkpoint(dir / "none.safetensors"); }, {dir / "none.safetensors", "not found"});
}

// Saves step 10 through a manager, then checks that a damaged copy is refused
// by name while the manager's last.safetensors still loads.
class CorruptCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    manager.save(state_of(*trained_run(1, 2)));
    good = read_bytes(*manager.latest());
  }
  void expect_refused(const std::vector<uint8_t>& bytes, const std::string& reason) {
    write_bytes(bad, bytes);
    expect_error([&] { load_checkpoint(bad); }, {bad, reason});
    EXPECT_EQ(load_checkpoint(*manager.latest()).step, 2);
  }
  size_t data_start() const {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | good[size_t(i)];
    return 8 + size_t(n);
  }

  TempFolder dir;
  CheckpointManager manager{dir / "checkpoints", 3};
  std::vector<uint8_t> good;
  std::string bad = dir / "checkpoints/step_20.safetensors";
};

TEST_F(CorruptCheckpoint, TruncatedIsRefused) {
  expect_refused(std::vector<uint8_t>(good.begin(), good.end() - 5), "truncated");
  expect_refused(std::vector<uint8_t>(good.begin(), good.begin() + 100), "runs past the end of the file");
  expect_refused(std::vector<uint8_t>(good.begin(), good.begin() + 4), "truncated header");
}

TEST_F(CorruptCheckpoint, ByteFlipInDataFailsTheChecksum) {
  for (size_t at : {data_start(), (data_start() + good.size()) / 2, good.size() - 1}) {
    std::vector<uint8_t> flipped = good;
    flipped[at] ^= 0x10;
    expect_refused(flipped, "checksum mismatch");
  }
}

TEST_F(CorruptCheckpoint, ByteFlipInHeaderFailsToParse) {
  std::vector<uint8_t> flipped = good;
  flipped[8] ^= 0x01;  // '{' -> 'z'
  expect_refused(flipped, "not valid JSON");
  // Inside the config text: still valid JSON, caught by the header checksum.
  const std::string text(good.begin(), good.end());
  flipped = good;
  flipped[text.find("depth: 2")] ^= 0x01;
  expect_refused(flipped, "header checksum mismatch");
}

TEST_F(CorruptCheckpoint, EverySingleByteFlipIsRefused) {
  for (uint8_t pattern : {uint8_t(0x01), uint8_t(0x80)}) {
    for (size_t at = 0; at < good.size(); ++at) {
      std::vector<uint8_t> flipped = good;
      flipped[at] ^= pattern;
      // A fresh file each time: rewriting one in place makes ext4 flush it
      // to disk on close (auto_da_alloc), which is slow.
      const std::string path = dir / fmt::format("flip_{}_{}.safetensors", at, int(pattern));
      write_bytes(path, flipped);
      EXPECT_THROW(load_checkpoint(path), Error) << "byte " << at << " ^ " << int(pattern);
      fs::remove(path);
    }
  }
  EXPECT_EQ(load_checkpoint(*manager.latest()).step, 2);
}

// ---- CheckpointManager ---------------------------------------------------------------

std::set<std::string> files_in(const std::string& directory) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory)) names.insert(entry.path().filename().string());
  return names;
}

TEST(CheckpointManager, KeepsTheLastKAndLastTracksTheNewest) {
  TempFolder dir;
  CheckpointManager manager(dir / "checkpoints", 2);
  EXPECT_EQ(manager.directory(), dir / "checkpoints");
  EXPECT_FALSE(manager.latest().has_value());
  Training run(1);
  for (int step = 1; step <= 5; ++step) {
    run.step(uint64_t(step));
    const std::string path = manager.save(state_of(run));
    EXPECT_EQ(path, dir / fmt::format("checkpoints/step_{}.safetensors", step));
    ASSERT_TRUE(manager.latest().has_value());
    EXPECT_EQ(*manager.latest(), dir / "checkpoints/last.safetensors");
    const CheckpointState last = load_checkpoint(*manager.latest());
    EXPECT_EQ(last.step, step);
    EXPECT_EQ(bytes_of(last.optimizer[0].second), bytes_of(run.adamw.state()[0].second));
  }
  EXPECT_EQ(files_in(manager.directory()),
            (std::set<std::string>{"last.safetensors", "step_4.safetensors", "step_5.safetensors"}));
  EXPECT_EQ(read_bytes(dir / "checkpoints/last.safetensors"), read_bytes(dir / "checkpoints/step_5.safetensors"));
}

TEST(CheckpointManager, InterruptedSavesLeaveThePreviousLast) {
  TempFolder dir;
  CheckpointManager manager(dir / "checkpoints", 3);
  Training run(1);
  for (int step = 1; step <= 2; ++step) {
    run.step(uint64_t(step));
    manager.save(state_of(run));
  }
  const std::string folder = manager.directory();
  // Crashed while writing step 3: half-written temporaries.
  const std::vector<uint8_t> last_bytes = read_bytes(folder + "/last.safetensors");
  write_bytes(folder + "/step_3.safetensors.tmp", std::vector<uint8_t>(last_bytes.begin(), last_bytes.begin() + 50));
  write_bytes(folder + "/last.safetensors.tmp", {1, 2, 3});
  EXPECT_EQ(load_checkpoint(*manager.latest()).step, 2);
  // Crashed after step 3 was complete but before last.safetensors moved.
  run.step(3);
  save_checkpoint(folder + "/step_3.safetensors", state_of(run));
  EXPECT_EQ(load_checkpoint(*manager.latest()).step, 2);

  // The next save moves last on and clears the strays.
  run.step(4);
  manager.save(state_of(run));
  EXPECT_EQ(load_checkpoint(*manager.latest()).step, 4);
  EXPECT_EQ(files_in(folder), (std::set<std::string>{"last.safetensors", "step_2.safetensors", "step_3.safetensors",
                                                     "step_4.safetensors"}));
}

TEST(CheckpointManager, KeepOneAndLastOutlivesItsStepFile) {
  TempFolder dir;
  CheckpointManager manager(dir / "c", 1);
  Training run(1);
  run.step(1);
  manager.save(state_of(run));
  run.step(2);
  manager.save(state_of(run));
  EXPECT_EQ(files_in(manager.directory()), (std::set<std::string>{"last.safetensors", "step_2.safetensors"}));
  fs::remove(dir / "c/step_2.safetensors");  // last is its own name for the bytes
  EXPECT_EQ(load_checkpoint(*manager.latest()).step, 2);
  expect_error([&] { CheckpointManager bad(dir / "c", 0); }, {"keep_last"});
}

}  // namespace
}  // namespace strata
