import { describe, expect, it } from "vitest";
import { redactContent } from "./redact.js";

describe("redactContent", () => {
  it.each([
    ["Mail jane.doe+lab@clinic.example.org today", "Mail [email] today"],
    ["SSN 123-45-6789 on file", "SSN [ssn] on file"],
    ["card 4111 1111 1111 1111 exp 12/29", "card [card] exp 12/29"],
    ["card 4111-1111-1111-1111", "card [card]"],
    ["card 378282246310005", "card [card]"],
    ["call (555) 123-4567 now", "call [phone] now"],
    ["call +44 20 7946 0958", "call [phone]"],
    ["call 555-123-4567", "call [phone]"],
    ["call +1 415.555.0100", "call [phone]"],
    ["SSN 123 45 6789 on file", "SSN [ssn] on file"],
    ["SSN 123.45.6789", "SSN [ssn]"],
    ["SSN: 123456789", "SSN: [ssn]"],
    ["social security number 123456789", "social security number [ssn]"],
    ["card 4111111111111111", "card [card]"],
    ["tel:5551234567 or +491511234567", "tel:[phone] or [phone]"],
    ["Write to JOHN.DOE@Example.co.uk", "Write to [email]"],
    ["two: a@b.io, c.d@e-f.org", "two: [email], [email]"],
  ])("redacts %j", (input, expected) => {
    expect(redactContent(input)).toBe(expected);
  });

  it.each([
    "The patient is 42 years old and weighs 80 kg.",
    "Version 1.2.3 released in 2026.",
    "Room 101, bed 7, dose 2.5 mg at 08:30.",
    "Order #12345 shipped.",
    "Mixed separators 123-45.6789 are no SSN.",
    "Account 123456789 is nine digits without a label.",
  ])("leaves ordinary text alone: %j", (input) => {
    expect(redactContent(input)).toBe(input);
  });
});
