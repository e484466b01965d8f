/* mailsim's command line. Each command is a row of the table below; the
 * views it starts live in their own files under render/. */
#include <stdio.h>
#include <string.h>

#ifndef MAILSIM_VERSION
#define MAILSIM_VERSION "unknown"
#endif

static void print_usage(FILE *out)
{
    fputs("usage: mailsim [--help] [--version]\n"
          "\n"
          "mailsim shows how one email travels: submitted by SMTP on port 587,\n"
          "relayed server to server on port 25 after an MX lookup, then fetched\n"
          "by IMAP (993) and POP3 (995). Every command and reply is real protocol.\n"
          "\n"
          "options:\n"
          "  --help      show this help and exit\n"
          "  --version   print the version and exit\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("mailsim %s\n", MAILSIM_VERSION);
        return 0;
    }
    fprintf(stderr, "mailsim: unknown command or option '%s'\n\n", argv[1]);
    print_usage(stderr);
    return 2;
}
