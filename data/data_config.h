#pragma once
// The `data:` section of a run config, and the datasets and loader options it
// describes.
//
//   data:
//     dataset: cifar10          # cifar10 | cifar100 | fashion_mnist | mnist | image_folder
//     root: data/cifar-10-batches-bin   # default per dataset, see below
//     label: fine               # cifar100 only: fine (100 classes) | coarse (20)
//     image_size: 0             # image_folder only: 0 = all images one size, > 0 = resize to a square
//     channels: 3               # image_folder only: 1 | 3
//     batch_size: 128           # per rank
//     eval_batch_size: 0        # 0 = batch_size
//     workers: 2                # loader threads (0 = prepare batches on the training thread)
//     prefetch: 4               # batches prepared ahead
//     shuffle: true
//     drop_last: true           # training only; evaluation never drops samples
//     crop: 0                   # output side; 0 = the image's size
//     padding: 4                # zero padding before the random crop
//     flip: true                # random horizontal flip
//     mean: [0.4914, 0.4822, 0.4465]   # per channel, pixel scale [0, 1]
//     std: [0.2470, 0.2435, 0.2616]
//     mixup_alpha: 0.0          # > 0 enables mixup
//     cutmix_alpha: 0.0         # > 0 enables cutmix
//     mix_prob: 1.0             # probability that a batch is mixed
//     label_smoothing: 0.0      # folded into the soft targets (Batch.targets)
//
// Defaults per dataset (root; padding, flip; mean, std):
//   cifar10        data/cifar-10-batches-bin   4, true   CIFAR-10 statistics
//   cifar100       data/cifar-100-binary       4, true   CIFAR-100 statistics
//   fashion_mnist  /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist)
//                                              0, false  0.2860, 0.3530
//   mnist          data/mnist                  0, false  0.1307, 0.3081
//   image_folder   (required: root/train/<class>/..., root/test or root/val/<class>/...)
//                                              0, true   ImageNet statistics
// Relative roots are relative to the working directory.
#include <string>

#include "config/config.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/loader.h"

namespace strata::data {

struct DataConfig {
  std::string dataset = "fashion_mnist";
  std::string root;
  std::string label = "fine";
  int64_t image_size = 0;
  int64_t channels = 3;
  int64_t batch_size = 128;
  int64_t eval_batch_size = 0;
  int64_t workers = 2;
  int64_t prefetch = 4;
  bool shuffle = true;
  bool drop_last = true;
  AugmentOptions augment;  // training augmentation; random_crop is set
};

// Reads and checks the section; unknown keys, wrong types and bad values are
// errors naming file:line and the key. Calls section.finish().
DataConfig read_data_config(config::Section& section);

// Reads the configured dataset's split from disk (errors name the files).
Dataset load_dataset(const DataConfig& config, Split split);

// Loader options for training (shuffled, augmented) and evaluation (in order,
// centre crop, no flip or mixing, every sample once).
LoaderOptions train_loader_options(const DataConfig& config, uint64_t seed, int64_t rank = 0, int64_t world_size = 1);
LoaderOptions eval_loader_options(const DataConfig& config, int64_t rank = 0, int64_t world_size = 1);

}  // namespace strata::data
