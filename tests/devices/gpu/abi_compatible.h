// What the ABI checks (cuda_abi_check.cpp, hip_abi_check.cpp) compare: a field of the GPU
// table (devices/gpu/gpu_api.h), declared with neutral types, against the vendor header's
// prototype of the symbol bound to it. They are compatible when both take the same number
// of arguments and every argument and the result travel alike: scalars (pointers,
// integers, enums) of the same size, and a pointer only where the other side has a pointer
// or a 64-bit integer (CUdeviceptr). That is what makes the call through the table's type
// correct on the 64-bit hosts the project builds for.
#pragma once

#include <type_traits>

template <typename T>
constexpr bool kScalarSlot = std::is_pointer_v<T> || std::is_integral_v<T> || std::is_enum_v<T>;

template <typename A, typename B>
constexpr bool kSameSlot = sizeof(A) == sizeof(B) && kScalarSlot<A> && kScalarSlot<B> &&
                           (std::is_pointer_v<A> == std::is_pointer_v<B> || sizeof(A) == 8);

template <typename R1, typename... A1, typename R2, typename... A2>
consteval bool AbiCompatible(R1 (*)(A1...), R2 (*)(A2...)) {
  if constexpr (sizeof...(A1) != sizeof...(A2)) {
    return false;
  } else {
    return kSameSlot<R1, R2> && (true && ... && kSameSlot<A1, A2>);
  }
}

// PB_ABI(Table, member, symbol): petabox::Table::member may hold &::symbol.
#define PB_ABI(Table, member, symbol)                                                  \
  static_assert(AbiCompatible(decltype(petabox::Table::member){}, &::symbol),         \
                #Table "::" #member " does not match the header's " #symbol)
// The same for a symbol the header overloads with C++ templates: `Type` picks the C one.
#define PB_ABI_AS(Table, member, symbol, Type)                                              \
  static_assert(AbiCompatible(decltype(petabox::Table::member){}, static_cast<Type>(&::symbol)), \
                #Table "::" #member " does not match the header's " #symbol)
