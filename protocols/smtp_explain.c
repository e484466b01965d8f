/* Plain-language sentences about SMTP replies and commands, for the lessons.
 * Reply codes from RFC 5321 4.2.2-4.2.3, RFC 3207, RFC 4954, RFC 1870,
 * RFC 7504; enhanced codes from RFC 3463 and the RFC 5248 registry. */
#include "protocols/smtp.h"

#include <stddef.h>

#include "protocols/common.h"

/* Enhanced codes worth their own sentence; class 0 matches 4 and 5 alike,
 * code 0 any reply code. Some are tied to one code: 5.7.0 means "STARTTLS
 * first" only on a 530 (elsewhere it is a generic security refusal, RFC 3463
 * 3.8), and 5.5.1 "unknown command" only on a 500 (Postfix sends 503 5.5.1
 * for a command out of sequence). */
static const struct {
    int code, cls, subject, detail;
    const char *text;
} enhanced[] = {
    {250, 2, 1, 0, "the sender address is accepted; now name the recipients with RCPT TO"},
    {250, 2, 1, 5, "the recipient is accepted; name more recipients or send DATA"},
    {250, 2, 6, 0, "the message is accepted: from now on this server is responsible for delivering it"},
    {220, 2, 0, 0, "ready to start TLS: the client begins the encryption handshake now, then says EHLO again"},
    {0, 5, 1, 1, "the recipient's mailbox does not exist here: the user name is unknown (check the address for a typo)"},
    {0, 0, 1, 2, "the domain in the address does not exist or has no mail server"},
    {0, 0, 1, 3, "the recipient address is not written correctly (for example a missing @ or angle brackets)"},
    {0, 0, 1, 7, "the sender address is not written correctly"},
    {0, 0, 1, 8, "the sender's domain does not exist, so replies could never reach it"},
    {0, 0, 1, 10, "the recipient's domain says it accepts no mail at all (a null MX record)"},
    {0, 0, 2, 1, "the mailbox exists but is disabled and does not accept messages"},
    {0, 0, 2, 2, "the recipient's mailbox is full: it is over its storage quota"},
    {0, 0, 3, 4, "the message is bigger than this server accepts (see the SIZE it announced in EHLO)"},
    {0, 0, 4, 4, "no mail server could be found for the domain, so the message could not be routed"},
    {0, 0, 4, 7, "the message was in the queue too long without being delivered and has expired"},
    {500, 0, 5, 1, "the server does not know this command"},
    {0, 0, 5, 2, "the command or the message is not written the way the protocol requires (for example a bare LF instead of CRLF)"},
    {0, 0, 5, 3, "too many recipients were given for one message"},
    {0, 0, 5, 4, "the command's arguments are not valid (a wrong or unknown parameter)"},
    {0, 0, 5, 6, "a line was longer than SMTP allows (512 octets for commands, 1000 for message text)"},
    {530, 5, 7, 0, "the server refuses until the connection is encrypted: send STARTTLS first"},
    {0, 4, 7, 0, "a temporary security problem (for example TLS is not available right now); try again later"},
    {0, 5, 7, 1, "relaying denied: this server does not accept mail for that domain from you, so send it to the recipient's own mail server (or log in first)"},
    {0, 4, 7, 1, "greylisted: the server turns away unknown senders once and accepts them when they retry a few minutes later, which real mail servers do and many spam tools do not"},
    {0, 0, 7, 8, "authentication failed: the user name or the password is wrong"},
    {0, 0, 7, 9, "this authentication mechanism is too weak for the server's policy"},
    {0, 0, 7, 11, "this authentication mechanism needs an encrypted connection: send STARTTLS first"},
    {0, 0, 7, 26, "the message failed the sender domain's authentication checks (SPF, DKIM or DMARC)"},
};

static const struct {
    int code;
    const char *text;
} replies[] = {
    {211, "system status or help reply"},
    {214, "help message for a human reader"},
    {220, "the server is ready: this greeting opens the conversation (after STARTTLS it means: start the TLS handshake now)"},
    {221, "the server says goodbye and is closing the connection"},
    {235, "authentication succeeded: the client is now logged in"},
    {250, "requested action okay, completed"},
    {251, "the user is not local, but the server will forward the message"},
    {252, "the server cannot verify the user but will accept the message and try to deliver it"},
    {334, "the server asks for the next piece of the login (the text is base64)"},
    {354, "go ahead; end the message with a line holding only a dot"},
    {421, "the service is not available and the server is closing the connection; try again later"},
    {432, "a password change is needed before this mechanism can be used"},
    {450, "the mailbox is unavailable right now (busy or temporarily blocked); try again later"},
    {451, "the server had a local error and gave up for now; try again later"},
    {452, "the server has no room right now (disk full or too many recipients); try again later"},
    {454, "a temporary failure: TLS or authentication is not available right now; try again later"},
    {455, "the server cannot accept these parameters right now; try again later"},
    {500, "syntax error: the server did not recognise the command, or the line was too long"},
    {501, "syntax error in the command's arguments: the command is known but what follows it is wrong"},
    {502, "the command is known but this server does not implement it"},
    {503, "bad sequence of commands: this command is not allowed at this point of the conversation (for example RCPT before MAIL)"},
    {504, "the command's parameter is not implemented (for example an unsupported AUTH mechanism)"},
    {521, "this host does not accept mail at all"},
    {523, "the encryption required is not supported"},
    {530, "authentication required: log in (AUTH) before sending mail, usually after STARTTLS"},
    {534, "the authentication mechanism is too weak for this server"},
    {535, "authentication failed: the credentials were not accepted"},
    {538, "this authentication mechanism needs an encrypted connection first"},
    {550, "the mailbox is unavailable: it does not exist, or the server refuses the message for a policy reason"},
    {551, "the user is not local; the client should send to the address the server gives"},
    {552, "the message is too big or the mailbox has run out of storage"},
    {553, "the mailbox name is not allowed (its syntax is wrong or the address is refused)"},
    {554, "the transaction failed, or (as a greeting) the server offers no SMTP service here"},
    {555, "the MAIL FROM or RCPT TO parameters are not recognised or not implemented"},
    {556, "the recipient's domain does not accept mail"},
};

const char *smtp_reply_explain(int code, int enh_class, int enh_subject, int enh_detail)
{
    /* RFC 3463 2: the class repeats the reply's first digit (2, 4 or 5). */
    if (enh_class == code / 100 && (enh_class == 2 || enh_class == 4 || enh_class == 5)) {
        for (size_t i = 0; i < ARRAY_LEN(enhanced); i++)
            if ((enhanced[i].cls == enh_class || (enhanced[i].cls == 0 && enh_class != 2)) &&
                (enhanced[i].code == 0 || enhanced[i].code == code) &&
                enhanced[i].subject == enh_subject && enhanced[i].detail == enh_detail)
                return enhanced[i].text;
    }
    for (size_t i = 0; i < ARRAY_LEN(replies); i++)
        if (replies[i].code == code) return replies[i].text;
    /* RFC 5321 4.2.1: the first digit alone says how it went. */
    switch (code / 100) {
    case 2: return "success: the server did what was asked";
    case 3: return "so far so good: the server waits for more from the client";
    case 4: return "temporary failure: the client should try again later";
    case 5: return "permanent failure: trying again the same way will not help";
    default: return "not a valid SMTP reply code";
    }
}

static const char *const command_text[SMTP_VERB_COUNT] = {
    [SMTP_HELO] = "HELO: the client says hello and gives its own host name (the old, plain SMTP greeting)",
    [SMTP_EHLO] = "EHLO: the client says hello and asks which extensions the server supports",
    [SMTP_MAIL] = "MAIL FROM: starts a new message and gives the sender's address, where bounces go",
    [SMTP_RCPT] = "RCPT TO: names one recipient of the message; repeat it for each recipient",
    [SMTP_DATA] = "DATA: the client is about to send the message itself, headers and body",
    [SMTP_RSET] = "RSET: forget the message in progress and start over",
    [SMTP_VRFY] = "VRFY: asks whether an address or user name exists on the server",
    [SMTP_EXPN] = "EXPN: asks the server to list the members of a mailing list",
    [SMTP_HELP] = "HELP: asks the server for help text",
    [SMTP_NOOP] = "NOOP: does nothing; the server just answers OK, which shows the connection is alive",
    [SMTP_QUIT] = "QUIT: the client is done and asks the server to close the connection",
    [SMTP_STARTTLS] = "STARTTLS: switch this connection to encryption (TLS) before anything secret is sent",
    [SMTP_AUTH] = "AUTH: the client logs in with a user name and password (encoded in base64)",
};

const char *smtp_command_explain(enum smtp_verb v)
{
    if ((unsigned)v >= SMTP_VERB_COUNT) return "unknown command";
    EXPECT(command_text[v] != NULL);
    return command_text[v];
}
