/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The keytab of the identity statement holds the site's key: whoever
 * reads it can be the site.  funneld refuses one that others could read
 * or change, as ssh refuses an unprotected private key.
 */
#ifndef FUNNEL_KEYTAB_H
#define FUNNEL_KEYTAB_H

#include <stddef.h>

/*
 * Open the keytab at path (absolute) once, for reading, and check what
 * was opened: the fd (O_CLOEXEC), or -1 with a message in err naming
 * the file (what: "keytab", "client keytab"), its mode and owner and how
 * to fix it, and errno set (ENOENT: the keytab or its directory does not
 * exist).  Refused:
 * - its directory (symbolic links above it followed) owned by another
 *   user than root or funneld's effective user, or writable by group or
 *   others without the sticky bit: whoever can write it can put another
 *   file under the keytab's name;
 * - a keytab that is a symbolic link (not followed: whoever can change
 *   the link chooses the file), or not a regular file;
 * - a keytab owned by another user than root or funneld's effective
 *   user, or with any permission for group or others;
 * - one funneld cannot read.
 * The checks are made on the open file (fstat), so the file checked is
 * the file used: gss.c gives krb5 "FILE:/proc/self/fd/N".
 */
int keytab_open(const char *path, const char *what, char *err, size_t errlen);

/*
 * 0 if the keytab at path passes keytab_open()'s checks, or does not
 * exist: it may be made later, and using it fails with its own message
 * until then.  Else -1 with the message in err.
 */
int keytab_check(const char *path, char *err, size_t errlen);

#endif /* FUNNEL_KEYTAB_H */
