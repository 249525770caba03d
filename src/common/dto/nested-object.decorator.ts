import { applyDecorators } from '@nestjs/common';
import { type ClassConstructor, Type } from 'class-transformer';
import { IsObject, ValidateNested } from 'class-validator';

/**
 * A nested object field: `[]`, `null`, a string or a number there is refused by name
 * (ValidateNested alone would accept an array and check its elements instead).
 */
export const NestedObject = (type: () => ClassConstructor<object>): PropertyDecorator =>
  applyDecorators(
    IsObject({ message: '$property must be an object' }),
    ValidateNested(),
    Type(type),
  );

/** A list of nested objects (the list itself is checked by the field's own decorators). */
export const NestedObjects = (type: () => ClassConstructor<object>): PropertyDecorator =>
  applyDecorators(
    IsObject({ each: true, message: 'each of $property must be an object' }),
    ValidateNested({ each: true }),
    Type(type),
  );
