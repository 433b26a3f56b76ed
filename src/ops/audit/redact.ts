/**
 * Redaction of prompt and output text before it is stored (`--audit-content`): e-mail
 * addresses, phone numbers, SSN-like and payment-card-like numbers become markers. It errs on
 * the side of cutting: a false positive costs a word, a false negative leaks PHI (AU-3(3)).
 */
const email = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const ssn = /\b\d{3}-\d{2}-\d{4}\b/g;
/** 13–19 digits, optionally grouped by single spaces or dashes: card numbers (no Luhn check: cut them all). */
const card = /\b\d(?:[ -]?\d){12,18}\b/g;
/** International or North-American style: +country, optional (area), 7+ digits in groups. */
const phone = /(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\b\d{2,4}[ .-])\d{3,4}[ .-]?\d{3,4}\b/g;

export function redactContent(text: string): string {
  return text
    .replace(email, "[email]")
    .replace(ssn, "[ssn]")
    .replace(card, "[card]")
    .replace(phone, "[phone]");
}
