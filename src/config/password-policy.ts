/**
 * The shortest password accepted: 12 characters, as NIST SP 800-63B recommends for passwords
 * chosen by users; with scrypt (users/password.ts), guessing one stays out of reach. Here
 * because both the start-up check of ADMIN_PASSWORD and the users' DTOs apply it.
 */
export const MIN_PASSWORD_LENGTH = 12;
