/*
 * A plugin's shared object, read as data (elf_check.h). The file comes from
 * a downloaded archive, so every offset and size in it is checked against
 * the file's length before it is used, with overflow-safe arithmetic.
 */
#define _GNU_SOURCE
#include "elf_check.h"

#include <elf.h>
#include <link.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <streamspace/plugin.h>

#include "pkg_file.h"
#include "xmalloc.h"

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#elif defined(__i386__)
#define HOST_MACHINE EM_386
#elif defined(__arm__)
#define HOST_MACHINE EM_ARM
#elif defined(__riscv)
#define HOST_MACHINE EM_RISCV
#elif defined(__powerpc64__)
#define HOST_MACHINE EM_PPC64
#elif defined(__s390x__)
#define HOST_MACHINE EM_S390
#else
#error "elf_check: unknown architecture"
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_DATA ELFDATA2LSB
#else
#define HOST_DATA ELFDATA2MSB
#endif

#if __SIZEOF_POINTER__ == 8
#define HOST_CLASS ELFCLASS64
#else
#define HOST_CLASS ELFCLASS32
#endif

static const char *machine_name(unsigned m)
{
	switch (m) {
	case EM_X86_64:
		return "x86_64";
	case EM_AARCH64:
		return "aarch64";
	case EM_386:
		return "i386";
	case EM_ARM:
		return "arm";
	case EM_RISCV:
		return "riscv";
	case EM_PPC64:
		return "ppc64";
	case EM_S390:
		return "s390";
	default:
		return "another machine";
	}
}

/* Whether [off, off + len) lies inside a file of size bytes. */
static bool in_file(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static int check_header(const ElfW(Ehdr) * h, size_t len, const char *name, struct pkg_error *err)
{
	if (len < sizeof *h || memcmp(h->e_ident, ELFMAG, SELFMAG) != 0) {
		pkg_error_set(err, "elf", name, "not an ELF file");
		return -1;
	}
	if (h->e_ident[EI_CLASS] != HOST_CLASS || h->e_ident[EI_DATA] != HOST_DATA) {
		pkg_error_set(err, "arch", name, "built for another word size or byte order");
		return -1;
	}
	if (h->e_ident[EI_VERSION] != EV_CURRENT || h->e_version != EV_CURRENT) {
		pkg_error_set(err, "elf", name, "unknown ELF version");
		return -1;
	}
	if (h->e_type != ET_DYN) {
		pkg_error_set(err, "elf", name, "not a shared object (e_type %u)",
			      (unsigned)h->e_type);
		return -1;
	}
	if (h->e_machine != HOST_MACHINE) {
		pkg_error_set(
		    err, "arch", name, "built for %s (e_machine %u); this daemon runs on %s",
		    machine_name(h->e_machine), (unsigned)h->e_machine, machine_name(HOST_MACHINE));
		return -1;
	}
	if (h->e_shentsize != sizeof(ElfW(Shdr)) || h->e_shnum == 0 ||
	    !in_file(h->e_shoff, (uint64_t)h->e_shnum * sizeof(ElfW(Shdr)), len)) {
		pkg_error_set(err, "elf", name, "missing or malformed section headers");
		return -1;
	}
	return 0;
}

/* Copies the definition symbol of the dynamic symbol table into out; false when none. */
static bool find_symbol(const unsigned char *buf, size_t len, const ElfW(Shdr) * sh, unsigned shnum,
			ElfW(Sym) * out)
{
	for (unsigned i = 0; i < shnum; i++) {
		const ElfW(Shdr) *sym = &sh[i], *str;
		uint64_t count;

		if (sym->sh_type != SHT_DYNSYM || sym->sh_entsize != sizeof(ElfW(Sym)) ||
		    sym->sh_link >= shnum || !in_file(sym->sh_offset, sym->sh_size, len))
			continue;
		str = &sh[sym->sh_link];
		if (str->sh_type != SHT_STRTAB || !in_file(str->sh_offset, str->sh_size, len))
			continue;
		count = sym->sh_size / sizeof(ElfW(Sym));
		for (uint64_t k = 1; k < count; k++) {
			ElfW(Sym) s;
			const char *nm;
			size_t want = sizeof ELF_CHECK_SYMBOL;

			/* Symbols may be unaligned in a hostile file: copy each out. */
			memcpy(&s, buf + sym->sh_offset + k * sizeof s, sizeof s);
			if (s.st_name >= str->sh_size || str->sh_size - s.st_name < want)
				continue;
			nm = (const char *)buf + str->sh_offset + s.st_name;
			if (memcmp(nm, ELF_CHECK_SYMBOL, want) != 0 || s.st_shndx == SHN_UNDEF)
				continue;
			if (ELF64_ST_TYPE(s.st_info) != STT_OBJECT ||
			    (ELF64_ST_BIND(s.st_info) != STB_GLOBAL &&
			     ELF64_ST_BIND(s.st_info) != STB_WEAK) ||
			    ELF64_ST_VISIBILITY(s.st_other) != STV_DEFAULT)
				continue;
			*out = s;
			return true;
		}
	}
	return false;
}

/* The abi field of the definition, read from the section that holds it. */
static int check_definition(const unsigned char *buf, size_t len, const ElfW(Shdr) * sh,
			    unsigned shnum, ElfW(Sym) s, uint32_t abi, const char *name,
			    struct pkg_error *err)
{
	const ElfW(Shdr) * sec;
	uint64_t off;
	uint32_t got;

	if (s.st_size != sizeof(struct ss_plugin_def)) {
		pkg_error_set(err, "abi", name,
			      "%s is %llu bytes; SDK ABI %u defines it as %zu bytes",
			      ELF_CHECK_SYMBOL, (unsigned long long)s.st_size, (unsigned)abi,
			      sizeof(struct ss_plugin_def));
		return -1;
	}
	if (s.st_shndx >= shnum) {
		pkg_error_set(err, "elf", name, "%s lies in no section", ELF_CHECK_SYMBOL);
		return -1;
	}
	sec = &sh[s.st_shndx];
	if (sec->sh_type == SHT_NOBITS || s.st_value < sec->sh_addr ||
	    s.st_value - sec->sh_addr > sec->sh_size ||
	    sec->sh_size - (s.st_value - sec->sh_addr) < sizeof got ||
	    !in_file(sec->sh_offset, sec->sh_size, len)) {
		pkg_error_set(err, "elf", name, "%s lies outside its section", ELF_CHECK_SYMBOL);
		return -1;
	}
	off = sec->sh_offset + (s.st_value - sec->sh_addr);
	memcpy(&got, buf + off, sizeof got);
	if (got != abi) {
		pkg_error_set(err, "abi", name, "built for SDK ABI %u; this daemon runs SDK ABI %u",
			      (unsigned)got, (unsigned)abi);
		return -1;
	}
	return 0;
}

int elf_check_plugin(int dirfd, const char *name, uint64_t max_bytes, uint32_t abi,
		     struct pkg_error *err)
{
	size_t len = 0;
	unsigned char *buf =
	    (unsigned char *)pkg_file_read_at(dirfd, name, max_bytes, &len, "so", err);
	ElfW(Ehdr) h;
	ElfW(Shdr) *sh = NULL;
	ElfW(Sym) sym;
	int rc = -1;

	if (buf == NULL)
		return -1;
	memset(&h, 0, sizeof h);
	memcpy(&h, buf, len < sizeof h ? len : sizeof h);
	if (check_header(&h, len, name, err) < 0)
		goto out;
	/* An aligned copy of the section headers. */
	sh = xcalloc(h.e_shnum, sizeof *sh);
	memcpy(sh, buf + h.e_shoff, (size_t)h.e_shnum * sizeof *sh);
	if (!find_symbol(buf, len, sh, h.e_shnum, &sym)) {
		pkg_error_set(err, "symbol", name,
			      "exports no %s: not a StreamSpace plugin (declare it with "
			      "SS_PLUGIN())",
			      ELF_CHECK_SYMBOL);
		goto out;
	}
	rc = check_definition(buf, len, sh, h.e_shnum, sym, abi, name, err);
out:
	free(sh);
	free(buf);
	return rc;
}
