// SPDX-License-Identifier: GPL-2.0
/* The keytab's owner and mode (see keytab.h). */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "funneld/keytab.h"

int keytab_check(const char *path, char *err, size_t errlen)
{
	uid_t me = geteuid();
	struct stat st;

	if (stat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "keytab %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "keytab %s: not a regular file", path);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != me) {
		const struct passwd *pw = getpwuid(me);
		char user[64];

		if (pw && strlen(pw->pw_name) < sizeof(user))
			snprintf(user, sizeof(user), "%s", pw->pw_name);
		else
			snprintf(user, sizeof(user), "%u", (unsigned int)me);
		snprintf(err, errlen,
			 "UNPROTECTED KEYTAB: %s is owned by uid %u, not by root or funneld's user %s (uid %u): whoever owns it can change the site's key; chown %s %s",
			 path, (unsigned int)st.st_uid, user, (unsigned int)me,
			 user, path);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen,
			 "UNPROTECTED KEYTAB: %s has mode %04o: it must not be accessible by group or others (whoever reads it can be this site); chmod 0600 %s",
			 path, (unsigned int)(st.st_mode & 07777), path);
		return -1;
	}
	if (faccessat(AT_FDCWD, path, R_OK, AT_EACCESS)) {
		snprintf(err, errlen,
			 "keytab %s (owner uid %u, mode %04o): funneld (uid %u) cannot read it: %s",
			 path, (unsigned int)st.st_uid,
			 (unsigned int)(st.st_mode & 07777), (unsigned int)me,
			 strerror(errno));
		return -1;
	}
	return 0;
}
