/* Whether this is an AddressSanitizer build (GCC and clang spell it differently). */
#ifndef SS_HOST_SANITIZER_H
#define SS_HOST_SANITIZER_H

#if defined(__SANITIZE_ADDRESS__)
#define HOST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HOST_ASAN 1
#endif
#endif

#endif
