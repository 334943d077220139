#include "data/data_config.h"

#include <filesystem>

#include "data/cifar.h"
#include "data/idx.h"
#include "data/image_folder.h"

namespace strata::data {

namespace fs = std::filesystem;

namespace {

// What a dataset implies when the config says nothing.
struct Defaults {
  std::string root;
  int64_t channels, image_size, padding;  // image_size 0: not known before reading
  bool flip;
  std::vector<double> mean, stddev;
};

Defaults defaults_for(const std::string& dataset, int64_t folder_channels, int64_t folder_size) {
  if (dataset == "cifar10") {
    return {"data/cifar-10-batches-bin", 3, 32, 4, true, {0.4914, 0.4822, 0.4465}, {0.2470, 0.2435, 0.2616}};
  }
  if (dataset == "cifar100") {
    return {"data/cifar-100-binary", 3, 32, 4, true, {0.5071, 0.4865, 0.4409}, {0.2673, 0.2564, 0.2762}};
  }
  if (dataset == "fashion_mnist") return {kDebianFashionMnistRoot, 1, 28, 0, false, {0.2860}, {0.3530}};
  if (dataset == "mnist") return {"data/mnist", 1, 28, 0, false, {0.1307}, {0.3081}};
  // image_folder: ImageNet statistics (their mean for grey images).
  if (folder_channels == 1) return {"", 1, folder_size, 0, true, {0.449}, {0.226}};
  return {"", 3, folder_size, 0, true, {0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}};
}

// Reads a key that only some datasets take; refuses it for the others. An
// inapplicable key is not recorded either, so the resolved config (which
// records every value read) reads back without error.
template <typename T>
void dataset_specific(config::Section& s, const std::string& key, T& value, bool applies, const std::string& which,
                      std::function<std::string(const T&)> check = {}) {
  if (applies) {
    s.field(key, value, check);
  } else if (s.has(key)) {
    s.error(key, fmt::format("only applies to dataset {}", which));
  }
}

std::function<std::string(const std::vector<double>&)> per_channel(int64_t channels, bool positive) {
  return [=](const std::vector<double>& v) -> std::string {
    if (int64_t(v.size()) != channels) {
      return fmt::format("expected {} values (one per channel), got {}", channels, v.size());
    }
    for (double x : v) {
      if (positive && !(x > 0.0)) return fmt::format("values must be > 0, got {}", x);
    }
    return {};
  };
}

void read_augment(config::Section& s, const Defaults& d, AugmentOptions& a) {
  a.padding = d.padding;
  a.flip = d.flip;
  a.mean = d.mean;
  a.stddev = d.stddev;
  a.random_crop = true;  // training view; for_eval() centres
  s.field("crop", a.crop, config::non_negative<int64_t>());
  s.field("padding", a.padding, config::non_negative<int64_t>());
  if (d.image_size > 0 && a.crop > d.image_size + 2 * a.padding) {
    s.error("crop", fmt::format("crop {} does not fit a {}x{} image padded by {}", a.crop, d.image_size,
                                d.image_size, a.padding));
  }
  s.field("flip", a.flip);
  s.field("mean", a.mean, per_channel(d.channels, false));
  s.field("std", a.stddev, per_channel(d.channels, true));
  s.field("mixup_alpha", a.mixup_alpha, config::non_negative<double>());
  s.field("cutmix_alpha", a.cutmix_alpha, config::non_negative<double>());
  s.field("mix_prob", a.mix_prob, config::in_range(0.0, 1.0));
  s.field("label_smoothing", a.label_smoothing, config::unit_interval_open());
}

std::string image_folder_split_dir(const std::string& root, Split split) {
  if (split == Split::train) return (fs::path(root) / "train").string();
  std::error_code ec;
  for (const char* name : {"test", "val"}) {
    if (fs::is_directory(fs::path(root) / name, ec)) return (fs::path(root) / name).string();
  }
  fail("image_folder", "{}: no test split (expected {}/test or {}/val)", root, root, root);
}

}  // namespace

DataConfig read_data_config(config::Section& s) {
  DataConfig c;
  s.choice("dataset", c.dataset, {"cifar10", "cifar100", "fashion_mnist", "mnist", "image_folder"});
  const bool folder = c.dataset == "image_folder";
  dataset_specific<std::string>(s, "label", c.label, c.dataset == "cifar100", "cifar100",
                                [](const std::string& v) -> std::string {
                                  return v == "fine" || v == "coarse" ? "" : "'" + v + "' is not one of [fine, coarse]";
                                });
  dataset_specific<int64_t>(s, "image_size", c.image_size, folder, "image_folder", config::non_negative<int64_t>());
  dataset_specific<int64_t>(s, "channels", c.channels, folder, "image_folder", [](const int64_t& v) -> std::string {
    return v == 1 || v == 3 ? "" : "must be 1 or 3";
  });
  const Defaults d = defaults_for(c.dataset, c.channels, c.image_size);
  c.channels = d.channels;
  c.root = d.root;
  s.field<std::string>("root", c.root, [&](const std::string& v) -> std::string {
    return v.empty() ? fmt::format("required for dataset {} (the folder holding train/ and test/)", c.dataset) : "";
  });
  s.field("batch_size", c.batch_size, config::positive<int64_t>());
  s.field("eval_batch_size", c.eval_batch_size, config::non_negative<int64_t>());
  s.field("workers", c.workers, config::non_negative<int64_t>());
  s.field("prefetch", c.prefetch, config::positive<int64_t>());
  s.field("shuffle", c.shuffle);
  s.field("drop_last", c.drop_last);
  read_augment(s, d, c.augment);
  s.finish();
  return c;
}

Dataset load_dataset(const DataConfig& c, Split split) {
  if (c.dataset == "cifar10") return read_cifar10(c.root, split);
  if (c.dataset == "cifar100") {
    return read_cifar100(c.root, split, c.label == "coarse" ? Cifar100Label::coarse : Cifar100Label::fine);
  }
  if (c.dataset == "fashion_mnist") return read_fashion_mnist(c.root, split);
  if (c.dataset == "mnist") return read_mnist(c.root, split);
  if (c.dataset == "image_folder") {
    const std::string dir = image_folder_split_dir(c.root, split);
    return read_image_folder(dir, {c.channels, c.image_size}, "image_folder/" + split_name(split));
  }
  fail("load_dataset", "unknown dataset '{}'", c.dataset);
}

LoaderOptions train_loader_options(const DataConfig& c, uint64_t seed, int64_t rank, int64_t world_size) {
  LoaderOptions o;
  o.batch_size = c.batch_size;
  o.shuffle = c.shuffle;
  o.drop_last = c.drop_last;
  o.seed = seed;
  o.rank = rank;
  o.world_size = world_size;
  o.workers = c.workers;
  o.prefetch = c.prefetch;
  o.augment = c.augment;
  return o;
}

LoaderOptions eval_loader_options(const DataConfig& c, int64_t rank, int64_t world_size) {
  LoaderOptions o = train_loader_options(c, 0, rank, world_size);
  o.batch_size = c.eval_batch_size > 0 ? c.eval_batch_size : c.batch_size;
  o.shuffle = false;
  o.drop_last = false;
  o.augment = c.augment.for_eval();
  return o;
}

}  // namespace strata::data
