/*
 * Checks a plugin's shared object without loading it: the daemon never
 * dlopens plugin code (only the sandboxed host does), so the ELF file is
 * read as data. It must be an ELF shared object (ET_DYN) of this machine's
 * class, byte order and e_machine, with section headers, and its dynamic
 * symbol table must define the SDK's definition symbol
 * (ss_plugin_definition, what SS_PLUGIN() declares) as an object of
 * sizeof(struct ss_plugin_def) whose abi field holds the expected ABI.
 *
 * No global state, no logging: safe on a worker thread (see pkg_error.h).
 */
#ifndef SS_ELF_CHECK_H
#define SS_ELF_CHECK_H

#include <stdint.h>

#include "pkg_error.h"

/* The symbol SS_PLUGIN() defines (sdk/include/streamspace/plugin.h). */
#define ELF_CHECK_SYMBOL "ss_plugin_definition"

/*
 * Checks the file name below directory dirfd (opened with O_NOFOLLOW; a
 * regular file of at most max_bytes). 0, or -1 with err: "so" (missing, not
 * a regular file, too large), "elf" (not an ELF shared object, or malformed),
 * "arch" (another class, byte order or machine), "symbol" (no definition
 * symbol), "abi" (a definition of another size or ABI than abi).
 */
int elf_check_plugin(int dirfd, const char *name, uint64_t max_bytes, uint32_t abi,
		     struct pkg_error *err);

#endif
