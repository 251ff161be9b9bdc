package lab

// HaveFlock lets the external tests skip what needs a lock across processes.
const HaveFlock = haveFlock
