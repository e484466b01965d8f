#include "render/transcript.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

static double seconds(sim_time t)
{
    return (double)t / 1e6;
}

/* Whether text begins with the word name (followed by a space, a colon or
 * the end), so "pat@example.net ..." does not count as naming example.net. */
static bool starts_with_name(const char *text, const char *name)
{
    size_t n = strlen(name);
    return strncmp(text, name, n) == 0 && (text[n] == ' ' || text[n] == ':' || text[n] == 0);
}

void ui_transcript_line(FILE *out, const struct sim_trace_event *ev)
{
    fprintf(out, "%9.3fs  %-5s ", seconds(ev->t), sim_proto_names[ev->proto]);
    switch (ev->kind) {
    case SIM_TR_LINE:
    case SIM_TR_DNS:
        fprintf(out, "%s -> %s :%u  %s%s %s", ev->from, ev->to, ev->port,
                ev->dir == SIM_DIR_S2C ? "S:" : "C:", ev->tls ? " [TLS]" : "", ev->text);
        break;
    case SIM_TR_MAIL:
        fprintf(out, "%s %s/%s uid %" PRIu32 ": %s", ev->mail.owner, ev->mail.account,
                ev->mail.folder, ev->mail.uid,
                ev->text[0] ? ev->text : sim_mail_change_names[ev->mail.change]);
        break;
    case SIM_TR_STATE:
        fprintf(out, "%s: %s", ev->from, ev->text);
        break;
    case SIM_TR_ACTION:
    case SIM_TR_QUEUE:
        /* Name who acted, unless the text starts with its name already
         * ("manish-pc sends ..."): with two devices "check mail" alone
         * would not say which one checked. */
        if (ev->from[0] && !starts_with_name(ev->text, ev->from)) fprintf(out, "%s: ", ev->from);
        fprintf(out, "%s", ev->text);
        break;
    default:
        fprintf(out, "%s", ev->text);
        break;
    }
    if (ev->note[0]) fprintf(out, "  # %s", ev->note);
    fputc('\n', out);
}

void ui_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20) fprintf(out, "\\u%04x", *p);
            else fputc(*p, out);
        }
    }
    fputc('"', out);
}

static void field(FILE *out, const char *name, const char *value)
{
    fprintf(out, ",\"%s\":", name);
    ui_json_string(out, value);
}

void ui_json_line(FILE *out, const struct sim_trace_event *ev)
{
    fprintf(out, "{\"t\":%.6f,\"step\":%zu", seconds(ev->t), ev->step);
    field(out, "kind", sim_trace_kind_names[ev->kind]);
    field(out, "proto", sim_proto_names[ev->proto]);
    field(out, "from", ev->from);
    field(out, "to", ev->to);
    fprintf(out, ",\"port\":%u", ev->port);
    field(out, "dir", sim_dir_names[ev->dir]);
    fprintf(out, ",\"conn\":%u,\"tls\":%s", ev->conn, ev->tls ? "true" : "false");
    field(out, "text", ev->text);
    field(out, "note", ev->note);
    if (ev->kind == SIM_TR_FAULT) {
        field(out, "fault", sim_fault_names[ev->fault]);
        if (ev->fault == SIM_FAULT_PORT_BLOCKED || ev->fault == SIM_FAULT_PORT_OPEN)
            fprintf(out, ",\"outbound\":%s", ev->outbound ? "true" : "false");
    }
    if (ev->kind == SIM_TR_MAIL) {
        const struct sim_trace_mail *m = &ev->mail;
        fputs(",\"mail\":{\"change\":", out);
        ui_json_string(out, sim_mail_change_names[m->change]);
        field(out, "owner", m->owner);
        field(out, "account", m->account);
        field(out, "folder", m->folder);
        fprintf(out, ",\"uid\":%" PRIu32 ",\"flags\":%u,\"size\":%zu", m->uid, m->flags, m->size);
        field(out, "subject", m->subject);
        field(out, "from", m->from);
        fputc('}', out);
    }
    fputs("}\n", out);
}
