#pragma once
// Storage: one owned block of device memory. Tensors share it through
// shared_ptr; views differ only in shape, strides and offset.
#include <cstddef>
#include <memory>

#include "core/allocator.h"
#include "core/device.h"

namespace strata {

class Storage {
 public:
  Storage(size_t nbytes, Device device, Allocator& allocator)
      : nbytes_(nbytes), device_(device), allocator_(&allocator),
        data_(nbytes ? allocator.allocate(nbytes) : nullptr) {}
  ~Storage() { allocator_->deallocate(data_, nbytes_); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  Allocator& allocator() const { return *allocator_; }

 private:
  size_t nbytes_;
  Device device_;
  Allocator* allocator_;
  void* data_;
};

}  // namespace strata
