/* Plain-language sentences about IMAP commands, responses and session
 * states, for the lessons (RFC 3501; IDLE RFC 2177; UIDPLUS RFC 4315;
 * response codes RFC 5530). See explain.h. */
#include "protocols/explain.h"

#include <stddef.h>

#include "protocols/common.h"

static const char *const command_text[IMAP_CMD_COUNT] = {
    [IMAP_CMD_CAPABILITY] = "CAPABILITY: asks what this server can do (its extensions, such as IDLE and STARTTLS)",
    [IMAP_CMD_NOOP] = "NOOP: does nothing, but gives the server a chance to report news (new mail, deletions by other devices)",
    [IMAP_CMD_LOGOUT] = "LOGOUT: the client is done and asks the server to close the connection",
    [IMAP_CMD_STARTTLS] = "STARTTLS: switch this connection to encryption (TLS) before the password is sent",
    [IMAP_CMD_LOGIN] = "LOGIN: the client logs in with a user name and a password",
    [IMAP_CMD_AUTHENTICATE] = "AUTHENTICATE: the client logs in with a SASL mechanism (PLAIN sends name and password in base64)",
    [IMAP_CMD_SELECT] = "SELECT: opens a folder; the following commands work on its messages",
    [IMAP_CMD_EXAMINE] = "EXAMINE: opens a folder read-only: nothing in it can be changed",
    [IMAP_CMD_CREATE] = "CREATE: makes a new folder on the server",
    [IMAP_CMD_DELETE] = "DELETE: removes a folder and every message in it",
    [IMAP_CMD_RENAME] = "RENAME: gives a folder a new name; its messages stay in it",
    [IMAP_CMD_SUBSCRIBE] = "SUBSCRIBE: adds a folder to the ones the mail program shows",
    [IMAP_CMD_UNSUBSCRIBE] = "UNSUBSCRIBE: hides a folder from the mail program's list",
    [IMAP_CMD_LIST] = "LIST: asks for the account's folders whose names match a pattern",
    [IMAP_CMD_LSUB] = "LSUB: asks for the subscribed folders whose names match a pattern",
    [IMAP_CMD_STATUS] = "STATUS: asks for a folder's counters (messages, unread, next UID) without opening it",
    [IMAP_CMD_APPEND] = "APPEND: uploads a whole message into a folder (a sent copy or a draft)",
    [IMAP_CMD_CHECK] = "CHECK: asks the server to save the folder's state to disk",
    [IMAP_CMD_CLOSE] = "CLOSE: closes the folder and silently removes the messages marked \\Deleted",
    [IMAP_CMD_EXPUNGE] = "EXPUNGE: removes for good every message marked \\Deleted in the open folder",
    [IMAP_CMD_SEARCH] = "SEARCH: asks which messages match some conditions (unread, from someone, a word ...)",
    [IMAP_CMD_FETCH] = "FETCH: asks for data about messages: flags, headers, size, or the message itself",
    [IMAP_CMD_STORE] = "STORE: changes the flags of messages (for example adds \\Seen to mark them read)",
    [IMAP_CMD_COPY] = "COPY: copies messages into another folder on the server",
    [IMAP_CMD_IDLE] = "IDLE: the client waits and asks the server to push news (new mail) the moment it happens",
};

static const char *const uid_text[IMAP_CMD_COUNT] = {
    [IMAP_CMD_FETCH] = "UID FETCH: asks for data about messages named by their UIDs, which never change, unlike message numbers",
    [IMAP_CMD_STORE] = "UID STORE: changes the flags of messages named by their UIDs (for example adds \\Seen to mark them read)",
    [IMAP_CMD_SEARCH] = "UID SEARCH: asks which messages match some conditions, answered with UIDs",
    [IMAP_CMD_COPY] = "UID COPY: copies messages, named by their UIDs, into another folder",
    [IMAP_CMD_EXPUNGE] = "UID EXPUNGE: removes for good only the listed messages that are marked \\Deleted",
};

const char *imap_command_explain(enum imap_cmd cmd, bool uid)
{
    if ((unsigned)cmd >= IMAP_CMD_COUNT) return "a command the server does not know";
    if (uid && uid_text[cmd]) return uid_text[cmd];
    EXPECT(command_text[cmd] != NULL);
    return command_text[cmd];
}

const char *imap_done_explain(void)
{
    return "DONE: the client ends IDLE so it can send commands again";
}

/* What a successful command did, in the tagged OK that completes it. */
static const char *const ok_text[IMAP_CMD_COUNT] = {
    [IMAP_CMD_CAPABILITY] = "done: the capabilities are listed just above",
    [IMAP_CMD_NOOP] = "done: nothing to do; any news was reported just before this line",
    [IMAP_CMD_LOGOUT] = "logged out: the server now closes the connection",
    [IMAP_CMD_STARTTLS] = "go ahead: the client starts the TLS handshake now, and everything after it is encrypted",
    [IMAP_CMD_LOGIN] = "logged in: the user name and password are accepted, and the client may open a folder",
    [IMAP_CMD_AUTHENTICATE] = "logged in: the credentials are accepted, and the client may open a folder",
    [IMAP_CMD_SELECT] = "the folder is open for reading and changing (READ-WRITE); the lines above described it",
    [IMAP_CMD_EXAMINE] = "the folder is open read-only (READ-ONLY); the lines above described it",
    [IMAP_CMD_CREATE] = "the folder now exists on the server",
    [IMAP_CMD_DELETE] = "the folder and its messages are gone from the server",
    [IMAP_CMD_RENAME] = "the folder has its new name",
    [IMAP_CMD_SUBSCRIBE] = "the folder is now on the subscribed list",
    [IMAP_CMD_UNSUBSCRIBE] = "the folder is no longer on the subscribed list",
    [IMAP_CMD_LIST] = "done: the matching folders are listed just above",
    [IMAP_CMD_LSUB] = "done: the matching subscribed folders are listed just above",
    [IMAP_CMD_STATUS] = "done: the folder's counters are just above",
    [IMAP_CMD_APPEND] = "the message is stored in the folder (APPENDUID tells the folder's UIDVALIDITY and the new UID)",
    [IMAP_CMD_CHECK] = "done: the folder's state is saved",
    [IMAP_CMD_CLOSE] = "the folder is closed; messages marked \\Deleted were removed without EXPUNGE lines",
    [IMAP_CMD_EXPUNGE] = "done: every message marked \\Deleted is now removed for good from the server",
    [IMAP_CMD_SEARCH] = "done: the matching messages are listed just above",
    [IMAP_CMD_FETCH] = "done: the data for every message asked for was sent just above",
    [IMAP_CMD_STORE] = "done: the flags are changed on the server, so every device will see them",
    [IMAP_CMD_COPY] = "the messages are copied (COPYUID tells their new UIDs in the target folder)",
    [IMAP_CMD_IDLE] = "idling has ended: the client may send commands again",
};

/* Response codes worth their own sentence, by name (RFC 3501 7.1,
 * RFC 4315 3, RFC 5530 3). */
static const struct {
    const char *name;
    const char *text;
} code_text[] = {
    {"ALERT", "an alert: the mail program must show this text to the user"},
    {"PARSE", "the server could not parse a message's headers"},
    {"TRYCREATE", "the target folder does not exist: the client should create it first"},
    {"NONEXISTENT", "there is no folder (or message) by that name"},
    {"ALREADYEXISTS", "a folder by that name already exists"},
    {"CANNOT", "this operation is not allowed (for example deleting or renaming INBOX)"},
    {"LIMIT", "a limit of the server was reached (quota, folder size, or response size)"},
    {"OVERQUOTA", "the mailbox is over its storage quota"},
    {"TOOBIG", "the message is too big for this server"},
    {"AUTHENTICATIONFAILED", "login refused: the user name or the password is wrong"},
    {"PRIVACYREQUIRED", "the server refuses until the connection is encrypted (STARTTLS)"},
    {"UNAVAILABLE", "the server cannot do this right now; try again later"},
    {"INUSE", "someone else is using this folder right now"},
    {"SERVERBUG", "the server hit an internal error"},
};

static const char *code_explain(const struct imap_resp_code *c)
{
    const char *name = NULL;
    size_t len = 0;
    if (c->code == IMAP_CODE_OTHER) {
        name = c->name.ptr;
        len = c->name.len;
    } else if (c->code != IMAP_CODE_NONE) {
        name = imap_code_names[c->code];
        len = 0;
        while (name[len]) len++;
    }
    if (!name) return NULL;
    for (size_t i = 0; i < ARRAY_LEN(code_text); i++)
        if (ascii_eq(name, len, code_text[i].name)) return code_text[i].text;
    return NULL;
}

static const char *untagged_status(const struct imap_response *r, enum imap_cmd cmd)
{
    switch (r->status) {
    case IMAP_PREAUTH:
        return "the server greets a client it already knows: the session starts logged in";
    case IMAP_BYE:
        return cmd == IMAP_CMD_LOGOUT
                   ? "the server says goodbye: it is about to close the connection"
                   : "the server is closing the connection (for example it has too many "
                     "connections already); the client may try again later";
    case IMAP_NO: return "a warning from the server";
    case IMAP_BAD: return "the server reports a protocol error it cannot tie to a command";
    default: break;
    }
    switch (r->code.code) {
    case IMAP_CODE_UIDVALIDITY:
        return "UIDVALIDITY: the folder's identity number; while it stays the same, a message's "
               "UID never changes, so a device can keep what it has cached";
    case IMAP_CODE_UIDNEXT:
        return "UIDNEXT: the UID the next new message will get; a device that remembers it can "
               "tell at once whether anything arrived";
    case IMAP_CODE_UNSEEN:
        return "UNSEEN: the number of the first message not read yet (without \\Seen)";
    case IMAP_CODE_PERMANENTFLAGS:
        return "PERMANENTFLAGS: the flags the client may change, which the server keeps for good";
    case IMAP_CODE_CAPABILITY:
        if (cmd == IMAP_CMD_COUNT)
            return "the server is ready: this greeting opens the conversation and lists what "
                   "the server can do";
        return "the server lists what it can do now";
    case IMAP_CODE_READ_ONLY: return "the folder is read-only for this session";
    case IMAP_CODE_READ_WRITE: return "the folder may be changed in this session";
    default: break;
    }
    const char *t = code_explain(&r->code);
    if (t) return t;
    if (cmd == IMAP_CMD_COUNT)
        return "the server is ready: this greeting opens the conversation";
    return "a note from the server (OK: nothing went wrong)";
}

/* A FETCH response: the message itself, or its flags. */
static const char *fetch_text(const struct imap_response *r, enum imap_cmd cmd)
{
    bool body = false, flags = false;
    for (size_t i = 0; i < r->natts; i++) {
        enum imap_fetch_item it = r->atts[i].item;
        if (it == IMAP_FETCH_BODY_SECTION || it == IMAP_FETCH_RFC822 ||
            it == IMAP_FETCH_RFC822_HEADER || it == IMAP_FETCH_RFC822_TEXT)
            body = true;
        if (it == IMAP_FETCH_FLAGS) flags = true;
    }
    if (body)
        return "the message (or the part asked for) follows as a literal: {n} says how many "
               "octets come next, so the client knows where it ends";
    if (cmd == IMAP_CMD_STORE) return "the message's flags after the change";
    if (flags && cmd != IMAP_CMD_FETCH)
        return "news: the message's flags changed on the server (another device read, flagged "
               "or marked it); here they are now";
    return "data about one message: the items the client asked for";
}

const char *imap_response_explain(const struct imap_response *r, enum imap_cmd cmd)
{
    if (!r) return "";
    switch (r->kind) {
    case IMAP_RESP_TAGGED: {
        if (r->status == IMAP_BAD)
            return "BAD: the server did not understand the command, or it is not allowed at "
                   "this point of the session";
        if (r->status == IMAP_NO) {
            const char *t = code_explain(&r->code);
            if (t) return t;
            if (cmd == IMAP_CMD_LOGIN || cmd == IMAP_CMD_AUTHENTICATE)
                return "login refused: the user name or password is wrong, or logging in needs "
                       "an encrypted connection first";
            if (cmd == IMAP_CMD_SELECT || cmd == IMAP_CMD_EXAMINE)
                return "the folder cannot be opened (it does not exist, or it is too big)";
            return "NO: the server understood the command but could not carry it out";
        }
        if ((unsigned)cmd < IMAP_CMD_COUNT && ok_text[cmd]) return ok_text[cmd];
        return "OK: the command is done";
    }
    case IMAP_RESP_STATE: return untagged_status(r, cmd);
    case IMAP_RESP_CONTINUE:
        if (cmd == IMAP_CMD_IDLE)
            return "the server is idling: it will push news (new mail) the moment it happens, "
                   "until the client sends DONE";
        if (cmd == IMAP_CMD_AUTHENTICATE)
            return "go ahead: the server waits for the client's login data (base64)";
        return "go ahead: the server is ready for the literal's octets (the message itself)";
    case IMAP_RESP_CAPABILITY:
        return "what this server can do: IMAP4rev1 and its extensions (IDLE pushes new mail, "
               "STARTTLS encrypts, UIDPLUS reports new UIDs)";
    case IMAP_RESP_FLAGS: return "the flags messages in this folder can have";
    case IMAP_RESP_LIST:
        return "one folder of the account, with its attributes and the character that separates "
               "levels of folder names";
    case IMAP_RESP_LSUB: return "one folder the user has subscribed to";
    case IMAP_RESP_SEARCH: return "the messages that match the search";
    case IMAP_RESP_STATUS: return "the folder's counters, read without opening it";
    case IMAP_RESP_EXISTS:
        if (cmd == IMAP_CMD_SELECT || cmd == IMAP_CMD_EXAMINE)
            return "the folder holds this many messages";
        return "new mail: the folder now holds this many messages";
    case IMAP_RESP_RECENT:
        return "how many messages are new since any session last looked (\\Recent)";
    case IMAP_RESP_EXPUNGE:
        return "the message with this number was removed for good; the messages after it move "
               "up one number";
    case IMAP_RESP_FETCH: return fetch_text(r, cmd);
    case IMAP_RESP_KIND_COUNT: break;
    }
    return "";
}

const char *imap_server_state_explain(enum imap_server_state st)
{
    switch (st) {
    case IMAP_SERVER_NOT_AUTHENTICATED:
        return "connected but not logged in: the client must log in (after STARTTLS if the "
               "connection is not encrypted yet)";
    case IMAP_SERVER_AUTHENTICATED:
        return "logged in: the client may list folders and open one";
    case IMAP_SERVER_SELECTED:
        return "a folder is open: commands now work on its messages";
    case IMAP_SERVER_LOGOUT: return "the session is ending: the connection closes";
    case IMAP_SERVER_STATE_COUNT: break;
    }
    return "an unknown state";
}
