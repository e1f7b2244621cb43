// SPDX-License-Identifier: MIT
/*
 * The suites are compiled with -finstrument-functions, so every function
 * they enter, the inline verbs of the stack's headers included, calls this.
 * It forwards to the coverage interposer when one is preloaded (see
 * harness/coverage/interposer.c) and costs one test otherwise. After each
 * test the harness asks the interposer to write its counts out.
 */
#include <dlfcn.h>
#include <stdbool.h>

#include "internal.h"

#define NO_TRACE __attribute__((no_instrument_function))

void __cyg_profile_func_enter(void *fn, void *site) NO_TRACE;
void __cyg_profile_func_exit(void *fn, void *site) NO_TRACE;

void __cyg_profile_func_enter(void *fn, void *site)
{
	static void (*hook)(void *fn);
	static bool looked;

	(void)site;
	if (!looked) {
		*(void **)&hook =
			dlsym(RTLD_DEFAULT, "rdmagate_coverage_enter");
		looked = true;
	}
	if (hook)
		hook(fn);
}

void __cyg_profile_func_exit(void *fn, void *site)
{
	(void)fn;
	(void)site;
}

void rg_coverage_flush(void)
{
	static void (*flush)(void);
	static bool looked;

	if (!looked) {
		*(void **)&flush =
			dlsym(RTLD_DEFAULT, "rdmagate_coverage_flush");
		looked = true;
	}
	if (flush)
		flush();
}
