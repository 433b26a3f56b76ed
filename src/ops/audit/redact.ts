/**
 * Redaction of prompt and output text before it is stored (`--audit-content`): e-mail
 * addresses, phone numbers, SSN-like and payment-card-like numbers become markers. It errs on
 * the side of cutting: a false positive costs a word, a false negative leaks PHI (AU-3(3)).
 */
const email = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** 3-2-4 digits with one separator used throughout (dash, space or dot). */
const ssn = /\b\d{3}([- .])\d{2}\1\d{4}\b/g;
/** Nine digits right after "SSN" or "social security (number)": the label gives them away. */
const labelledSsn = /\b(ssn|social security(?: number)?)(\s*(?:#|no\.?)?\s*:?\s*)\d{9}\b/gi;
/** 13–19 digits, optionally grouped by single spaces or dashes: card numbers (no Luhn check: cut them all). */
const card = /\b\d(?:[ -]?\d){12,18}\b/g;
/** International or North-American style: +country, optional (area), 7+ digits in groups. */
const phone = /(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\b\d{2,4}[ .-])\d{3,4}[ .-]?\d{3,4}\b/g;
/** Ungrouped 10–12 digit numbers, with or without +country: dialled numbers (and some ids: cut). */
const barePhone = /(?:\+|\b)\d{10,12}\b/g;

export function redactContent(text: string): string {
  return text
    .replace(email, "[email]")
    .replace(labelledSsn, "$1$2[ssn]")
    .replace(ssn, "[ssn]")
    .replace(card, "[card]")
    .replace(phone, "[phone]")
    .replace(barePhone, "[phone]");
}
