// Linked into the packaged binaries only (scripts/package.sh). libstdc++'s std::random_device,
// built against glibc 2.36, calls arc4random, the one symbol that would raise the binaries'
// glibc floor from 2.35 to 2.36. Defined here, over getrandom (glibc 2.25), the linker binds
// that call to this definition instead of libc's.
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>

uint32_t arc4random(void) {
    uint32_t value;
    size_t filled = 0;
    while (filled < sizeof value) {
        ssize_t count = getrandom((char *)&value + filled, sizeof value - filled, 0);
        if (count < 0) {
            if (errno == EINTR) continue;
            abort(); // no entropy source at all: as glibc's own arc4random, never return a weak value
        }
        filled += (size_t)count;
    }
    return value;
}
