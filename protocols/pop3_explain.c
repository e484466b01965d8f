/* Plain-language sentences about POP3 commands, replies and session states,
 * for the lessons (RFC 1939; CAPA and response codes RFC 2449; STLS
 * RFC 2595; [AUTH] RFC 3206). See explain.h. */
#include "protocols/explain.h"

#include <stddef.h>

#include "protocols/common.h"

static const char *const command_text[POP3_VERB_COUNT] = {
    [POP3_USER] = "USER: the client gives the user name it wants to log in as",
    [POP3_PASS] = "PASS: the client sends the password, in plain text unless the connection is encrypted",
    [POP3_APOP] = "APOP: the client logs in without sending the password: it sends an MD5 digest of the greeting's timestamp and the password",
    [POP3_STAT] = "STAT: asks how many messages are in the mailbox and their total size",
    [POP3_LIST] = "LIST: asks for the size of each message (or of one)",
    [POP3_RETR] = "RETR: downloads one whole message",
    [POP3_DELE] = "DELE: marks one message for deletion; it is removed only after QUIT",
    [POP3_NOOP] = "NOOP: does nothing; the server answers +OK, which shows the connection is alive",
    [POP3_RSET] = "RSET: takes back every deletion mark of this session",
    [POP3_QUIT] = "QUIT: the client is done: the server deletes the marked messages and closes the connection",
    [POP3_TOP] = "TOP: downloads the header of a message and its first few lines only",
    [POP3_UIDL] = "UIDL: asks for each message's unique-id, which stays the same across sessions",
    [POP3_CAPA] = "CAPA: asks what this server can do",
    [POP3_STLS] = "STLS: switch this connection to encryption (TLS) before the password is sent",
};

const char *pop3_command_explain(enum pop3_verb v)
{
    if ((unsigned)v >= POP3_VERB_COUNT) return "a command the server does not know";
    EXPECT(command_text[v] != NULL);
    return command_text[v];
}

static const char *const ok_text[POP3_VERB_COUNT] = {
    [POP3_USER] = "the server takes the user name and waits for the password (PASS)",
    [POP3_PASS] = "logged in: the mailbox is now locked for this session, and its messages are numbered from 1",
    [POP3_APOP] = "logged in: the digest matched, and the mailbox is now locked for this session",
    [POP3_STAT] = "the number of messages in the mailbox and their total size in octets",
    [POP3_LIST] = "the size of each message in octets (a list follows, ended by a line holding only a dot)",
    [POP3_RETR] = "the message follows, line by line, ended by a line holding only a dot",
    [POP3_DELE] = "the message is marked for deletion: the server removes it after QUIT",
    [POP3_NOOP] = "nothing to do: the connection is alive",
    [POP3_RSET] = "every deletion mark is taken back: nothing will be deleted",
    [POP3_QUIT] = "the marked messages are deleted from the server, and it says goodbye",
    [POP3_TOP] = "the header and the first lines of the message follow, ended by a line holding only a dot",
    [POP3_UIDL] = "the unique-ids: a device that keeps mail on the server remembers them to know which messages it already has",
    [POP3_CAPA] = "what this server can do follows, one capability a line",
    [POP3_STLS] = "go ahead: the client starts the TLS handshake now, and everything after it is encrypted",
};

/* RFC 2449 8 and RFC 3206 response codes. */
static const struct {
    const char *code;
    const char *text;
} code_text[] = {
    {"IN-USE", "the mailbox is already open in another POP3 session: POP3 lets only one session at a time use it"},
    {"LOGIN-DELAY", "the user logged in too recently: the server wants a pause between logins"},
    {"SYS/TEMP", "a temporary problem on the server (for example too many connections); try again later"},
    {"SYS/PERM", "a permanent problem on the server; trying again will not help"},
    {"AUTH", "login refused: the user name or the password is wrong"},
};

const char *pop3_reply_explain(const struct pop3_reply *r, enum pop3_verb v)
{
    if (!r) return "";
    if (!r->ok) {
        for (size_t i = 0; i < ARRAY_LEN(code_text); i++)
            if (r->code && ascii_eq(r->code, r->code_len, code_text[i].code))
                return code_text[i].text;
        switch (v) {
        case POP3_USER:
        case POP3_PASS:
        case POP3_APOP: return "login refused, or the command came out of order";
        case POP3_RETR:
        case POP3_DELE:
        case POP3_LIST:
        case POP3_TOP:
        case POP3_UIDL: return "no such message (or it is already marked for deletion)";
        case POP3_STLS: return "TLS cannot be started now (it is already on, or not offered)";
        case POP3_QUIT: return "the server could not delete every marked message";
        default: return "-ERR: the command failed or is not allowed at this point of the session";
        }
    }
    if ((unsigned)v >= POP3_VERB_COUNT)
        return "the server is ready; the <...> part is a timestamp, different for every "
               "connection, that APOP logins use";
    return ok_text[v];
}

const char *pop3_end_explain(enum pop3_verb v)
{
    if (v == POP3_RETR || v == POP3_TOP)
        return "a line holding only a dot ends the message (a line of the message that starts "
               "with a dot was sent with one more)";
    return "a line holding only a dot ends the list";
}

const char *pop3_server_state_explain(enum pop3_server_state st)
{
    switch (st) {
    case POP3_SERVER_AUTHORIZATION:
        return "the client must log in first (USER and PASS, or APOP)";
    case POP3_SERVER_TRANSACTION:
        return "logged in and the mailbox is locked: the client lists, downloads and marks "
               "messages for deletion";
    case POP3_SERVER_UPDATE:
        return "the client said QUIT: the server now deletes the messages marked for deletion";
    case POP3_SERVER_CLOSED: return "the session is over";
    case POP3_SERVER_STATE_COUNT: break;
    }
    return "an unknown state";
}
