// Linked into the packaged binaries only (scripts/package.sh), with the linker's --wrap for
// hypot, hypotf and _dl_find_object. Built against glibc 2.36, the Swift runtime, swift-numerics
// and libgcc's unwinder bind these to versions from glibc 2.35; each wrapper here calls what
// glibc 2.34 and earlier also have, so the binaries' floor stays at 2.34.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#define GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define GLIBC_BASE "GLIBC_2.17"
#else
#error "add this architecture's first glibc symbol version"
#endif

// glibc 2.35 gave hypot and hypotf new versions (a faster, exact implementation); the first
// versions are still exported and give the same results within an ulp.
double glibc_base_hypot(double, double);
float glibc_base_hypotf(float, float);
__asm__(".symver glibc_base_hypot, hypot@" GLIBC_BASE);
__asm__(".symver glibc_base_hypotf, hypotf@" GLIBC_BASE);
double __wrap_hypot(double x, double y) { return glibc_base_hypot(x, y); }
float __wrap_hypotf(float x, float y) { return glibc_base_hypotf(x, y); }

// libgcc's unwinder asks _dl_find_object (glibc 2.35) for the object holding a code address
// and its PT_GNU_EH_FRAME segment. Before 2.35 it walked dl_iterate_phdr itself; this does
// the same walk and fills in the fields the unwinder reads.
struct object_search {
    uintptr_t address;
    struct dl_find_object *result;
    int found;
};

static int visit_object(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    struct object_search *search = context;
    uintptr_t start = UINTPTR_MAX, end = 0;
    void *eh_frame = NULL;
    int holds_address = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
        uintptr_t low = info->dlpi_addr + segment->p_vaddr;
        if (segment->p_type == PT_LOAD) {
            uintptr_t high = low + segment->p_memsz;
            if (low < start) start = low;
            if (high > end) end = high;
            if (search->address >= low && search->address < high) holds_address = 1;
        } else if (segment->p_type == PT_GNU_EH_FRAME) {
            eh_frame = (void *)low;
        }
    }
    if (!holds_address) return 0;
    memset(search->result, 0, sizeof *search->result);
    search->result->dlfo_map_start = (void *)start;
    search->result->dlfo_map_end = (void *)end;
    search->result->dlfo_eh_frame = eh_frame;
    Dl_info symbol;
    struct link_map *map = NULL;
    if (dladdr1((void *)search->address, &symbol, (void **)&map, RTLD_DL_LINKMAP) != 0) {
        search->result->dlfo_link_map = map;
    }
    search->found = 1;
    return 1;
}

int __wrap__dl_find_object(void *address, struct dl_find_object *result) {
    struct object_search search = {(uintptr_t)address, result, 0};
    dl_iterate_phdr(visit_object, &search);
    return search.found ? 0 : -1;
}
