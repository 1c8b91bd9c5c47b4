// Package guest holds kcr's in-guest tests. They need a test VM with kcr.ko
// at /kcr/kcr.ko, so they build only with the kcrguest tag; the harness
// (vmtest/) compiles them for each guest arch and runs them at boot.
package guest
