// The same check with ImapFlow and Nodemailer (EmailEngine's stack), for the benchmarks.
//   node job.mjs MODE CONFIG_JSON     MODE: once | cpu N | batch N
// CONFIG_JSON: {"host", "imap_port", "smtp_port", "login", "password", "email",
//               "recipient", "ca_file", "users": [[login, password, email], ...]}
// Prints one JSON line: {"seconds": wall time} or {"cpu_per_job": seconds}.
import fs from "node:fs";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";

const [mode, count, configText] = process.argv.length > 4
  ? [process.argv[2], Number(process.argv[3]), process.argv[4]]
  : [process.argv[2], 1, process.argv[3]];
const config = JSON.parse(configText);
const ca = fs.readFileSync(config.ca_file);

async function job(login, password, email) {
  const imap = new ImapFlow({
    host: config.host, port: config.imap_port, secure: true,
    auth: { user: login, pass: password }, tls: { ca, servername: config.host },
    logger: false,
  });
  const smtp = nodemailer.createTransport({
    host: config.host, port: config.smtp_port, secure: false, requireTLS: true,
    auth: { user: login, pass: password }, tls: { ca, servername: config.host },
  });
  const imapLeg = (async () => {
    await imap.connect();
    await imap.list();
    await imap.mailboxOpen("INBOX", { readOnly: true });
    await imap.logout();
  })();
  const smtpLeg = smtp.sendMail({
    from: email, bcc: config.recipient, subject: "Mailbox connection test",
    text: "This message was sent automatically.\n",
  }).finally(() => smtp.close());
  await Promise.all([imapLeg, smtpLeg]);
}

const user = (i) => (config.users && config.users.length
  ? config.users[i % config.users.length] : [config.login, config.password, config.email]);

const started = process.hrtime.bigint();
if (mode === "once") {
  await job(...user(0));
  console.log(JSON.stringify({ seconds: Number(process.hrtime.bigint() - started) / 1e9 }));
} else if (mode === "cpu") {
  await job(...user(0)); // warm up
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) await job(...user(0));
  const used = process.cpuUsage(before);
  console.log(JSON.stringify({ cpu_per_job: (used.user + used.system) / 1e6 / count }));
} else if (mode === "batch") {
  await Promise.all(Array.from({ length: count }, (_, i) => job(...user(i))));
  console.log(JSON.stringify({ seconds: Number(process.hrtime.bigint() - started) / 1e9 }));
}
