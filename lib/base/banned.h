/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_BANNED_H
#define VMR_BANNED_H

/*
 * Functions that are too easy to misuse (after git's banned.h).  Included
 * last by util.h, so every project file that uses them fails to compile.
 * Use xasprintf/vmr_buf, snprintf, strtok_r, memcpy with explicit sizes.
 */
#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)
#undef system
#define system(x) BANNED(system)
#undef popen
#define popen(x, y) BANNED(popen)

#endif
