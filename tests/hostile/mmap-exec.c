/* Makes executable memory: anonymous PROT_EXEC, then RW turned RX. */
#include <sys/mman.h>

#include "hostile.h"

static void attack(ss_plugin *p)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (m != MAP_FAILED) {
		escaped(p, "mapped RWX memory at %p", m);
		munmap(m, 4096);
	} else {
		contained(p, "mmap PROT_EXEC", errno);
	}
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		contained(p, "mmap PROT_READ|PROT_WRITE", errno);
		return;
	}
	if (mprotect(m, 4096, PROT_READ | PROT_EXEC) == 0)
		escaped(p, "made memory executable with mprotect");
	else
		contained(p, "mprotect PROT_EXEC", errno);
	munmap(m, 4096);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_LOAD);
