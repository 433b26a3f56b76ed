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
  ])("redacts %j", (input, expected) => {
    expect(redactContent(input)).toBe(expected);
  });

  it.each([
    "The patient is 42 years old and weighs 80 kg.",
    "Version 1.2.3 released in 2026.",
    "Room 101, bed 7, dose 2.5 mg at 08:30.",
    "Order #12345 shipped.",
  ])("leaves ordinary text alone: %j", (input) => {
    expect(redactContent(input)).toBe(input);
  });
});
