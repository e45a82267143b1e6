// Built and run by scripts/package.sh with the same static libstdc++/libgcc and wrappers as the
// packaged binaries: a C++ exception must still find its handler through the
// _dl_find_object wrapper, and hypot must still compute.
#include <cmath>
#include <cstdio>
#include <stdexcept>

__attribute__((noinline)) static void throw_through(int depth) {
    if (depth == 0) throw std::runtime_error("unwound");
    throw_through(depth - 1);
}

int main(int argc, char **) {
    try {
        throw_through(3 + argc);
    } catch (const std::runtime_error &error) {
        volatile double x = 3.0, y = 4.0;
        volatile float xf = 5.0f, yf = 12.0f;
        if (std::hypot(x, y) != 5.0 || std::hypot(xf, yf) != 13.0f) {
            std::puts("hypot gave a wrong result");
            return 2;
        }
        std::puts(error.what());
        return 0;
    }
    return 1;
}
