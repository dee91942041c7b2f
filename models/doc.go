// Package models knows the networks deepdream can dream with: how each
// wants its input preprocessed, its class names, and (with the registry)
// where to get it.
package models
